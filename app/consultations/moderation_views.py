"""Moderator pages: the queue, decisions with reasons, the word filter and bans."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.permissions import holds_for_hub, roles_required
from app.auth.roles import Role
from app.consultations import moderation, services
from app.consultations.models import Comment, Consultation, Statement
from app.errors import DomainError
from app.extensions import db

bp = Blueprint("moderation", __name__, template_folder="templates",
               url_prefix="/<lang:lang_code>/admin/moderation")


def _may_moderate(hub_id: int) -> bool:
    """Moderators act for their own hub, or for all when their role has no hub."""
    return holds_for_hub(hub_id, Role.MODERATOR)


def _hub_of(item: Statement | Comment) -> int:
    return db.session.get(Consultation, item.consultation_id).hub_id


def _render_queue(consultation: Consultation | None, errors: dict, values, status: int = 200):
    items = [entry for entry in moderation.queue(consultation)
             if _may_moderate(_hub_of(entry.item))]
    return render_template("consultations/manage/moderation.html", items=items,
                           reasons=moderation.FLAG_REASONS, consultation=consultation,
                           consultations=[c for c in services.all_consultations()
                                          if _may_moderate(c.hub_id)],
                           errors=errors, values=values), status


@bp.route("/")
@roles_required(Role.MODERATOR)
def queue():
    """Pending statements and comments, and reported ones, oldest first."""
    slug = request.args.get("consultation") or None
    return _render_queue(services.get_by_slug(slug) if slug else None, {}, {})


@bp.route("/<kind>/<int:item_id>", methods=["POST"])
@roles_required(Role.MODERATOR)
def decide(kind: str, item_id: int):
    """Approve, hide or ban; hiding and banning need a reason the author will see."""
    model = {"statement": Statement, "comment": Comment}.get(kind)
    item = db.session.get(model, item_id) if model else None
    if item is None:
        abort(404)
    if not _may_moderate(_hub_of(item)):
        abort(403)
    action = request.form.get("action")
    actor = f"user:{current_user.id}"
    reason = request.form.get("reason", "")
    try:
        if action == "approve":
            moderation.approve(item, actor=actor)
        elif action == "hide":
            moderation.hide(item, actor=actor, reason=reason)
        elif action == "ban":
            moderation.ban(item, actor=actor, reason=reason,
                           everywhere=request.form.get("everywhere") == "1",
                           moderator_id=current_user.id)
        else:
            abort(400)
    except DomainError as error:
        db.session.rollback()
        return _render_queue(None, {f"{kind}-{item_id}-reason": str(error.message)},
                             request.form, 400)
    db.session.commit()
    flash({"approve": _("Published."), "hide": _("Hidden."),
           "ban": _("Hidden, and the author can no longer write.")}[action], "success")
    return redirect(url_for(".queue"))


@bp.route("/word-filter", methods=["GET", "POST"])
@roles_required(Role.MODERATOR)
def word_filter():
    """Words and phrases that hold a statement or comment back for review."""
    errors: dict[str, str] = {}
    text = request.form.get("terms", "") if request.method == "POST" else \
        "\n".join(moderation.blocked_terms())
    if request.method == "POST":
        try:
            moderation.set_blocked_terms(text.splitlines(), actor=f"user:{current_user.id}")
        except DomainError as error:
            db.session.rollback()
            errors["terms"] = str(error.message)
        else:
            db.session.commit()
            flash(_("The word filter has been saved."), "success")
            return redirect(url_for(".word_filter"))
    return render_template("consultations/manage/word_filter.html", terms=text,
                           errors=errors), 400 if errors else 200


@bp.route("/bans")
@roles_required(Role.MODERATOR)
def bans():
    return render_template("consultations/manage/bans.html", bans=moderation.bans(),
                           consultations={c.id: c for c in services.all_consultations()})


@bp.route("/bans/<int:ban_id>/lift", methods=["POST"])
@roles_required(Role.MODERATOR)
def lift_ban(ban_id: int):
    moderation.lift_ban(ban_id, actor=f"user:{current_user.id}")
    db.session.commit()
    flash(_("The ban has been lifted."), "success")
    return redirect(url_for(".bans"))
