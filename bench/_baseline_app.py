"""The baseline for the respondent benchmark: a bare Flask app, one INSERT per POST."""

from __future__ import annotations

import os

from flask import Flask, redirect
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert

engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
metadata = MetaData()
answers = Table("bench_baseline_answer", metadata, Column("id", Integer, primary_key=True),
                Column("value", String(200)))
metadata.create_all(engine)

app = Flask(__name__)


@app.get("/")
def form():
    return '<form method="post" action="/answer"><input name="value"></form>'


@app.post("/answer")
def answer():
    with engine.begin() as connection:
        connection.execute(insert(answers).values(value="x"))
    return redirect("/")
