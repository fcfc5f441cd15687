"""Notes: a small CRUD API backed by Postgres. New notes get their word count from a Celery task.

Every operation needs a bearer token (app/auth.py) except reading a note through its share link,
which is the point of the link: `router` carries the dependency, `public` holds that one route.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from app import tokens
from app.auth import require_token
from app.db import Note

log = logging.getLogger(__name__)
router = APIRouter(prefix="/notes", tags=["notes"], dependencies=[Depends(require_token)])
public = APIRouter(prefix="/notes", tags=["notes"])

# notes.id is a Postgres integer: a larger id cannot exist, and passing it to the database would
# fail with an out-of-range error (a 500) instead of a client error.
NoteId = Annotated[int, Path(ge=1, le=2_147_483_647)]


# Share links are signed tokens, not rows: nothing to store, and a key rotation (SECRET_KEY plus the
# old key in SECRET_KEY_FALLBACKS) keeps the links already handed out working until they expire.
SHARE_PURPOSE = "notes.share"


class NoteIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=100_000)
    pinned: bool = False

    @field_validator("title", "body")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        # Postgres text cannot hold NUL; the insert would fail with a database error, a 500.
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    body: str
    word_count: int | None
    pinned: bool
    created_at: datetime


class ShareOut(BaseModel):
    url: str
    expires_in: int


def _session(request: Request) -> AsyncSession:
    return AsyncSession(request.app.state.engine, expire_on_commit=False)


def prepare_publishing() -> None:
    """Loads Celery and builds its producer pool: about a second of imports and set-up (no
    connection), which the worker pays when it starts rather than the first note it saves."""
    from app.celery import celery_app

    celery_app.amqp.producer_pool  # noqa: B018 - built on first access


def _enqueue_word_count(note_id: int) -> None:
    # Imported here, not at the top: importing app.celery configures Celery from the settings,
    # which the web process does in its lifespan (prepare_publishing), after the settings are known.
    from app.celery import count_words

    count_words.apply_async(args=[note_id], retry=False)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=NoteOut)
async def create_note(payload: NoteIn, request: Request) -> Note:
    async with _session(request) as session:
        note = Note(title=payload.title, body=payload.body, pinned=payload.pinned)
        session.add(note)
        await session.commit()
    try:
        # Publishing is a blocking network call: keep it off the event loop.
        await run_in_threadpool(_enqueue_word_count, note.id)
    except Exception:
        # The note is saved; a missing word count is recoverable, a lost note is not.
        log.exception("could not enqueue count_words for note %s", note.id)
    return note


@router.get("", response_model=list[NoteOut])
async def list_notes(request: Request, limit: int = Query(default=50, ge=1, le=200)) -> list[Note]:
    async with _session(request) as session:
        result = await session.scalars(select(Note).order_by(Note.id.desc()).limit(limit))
        return list(result)


async def _get_or_404(request: Request, note_id: int) -> Note:
    async with _session(request) as session:
        note = await session.get(Note, note_id)
    if note is None:
        raise HTTPException(status_code=404, detail="note not found")
    return note


@router.get("/{note_id}", response_model=NoteOut)
async def get_note(note_id: NoteId, request: Request) -> Note:
    return await _get_or_404(request, note_id)


@router.post("/{note_id}/share", status_code=status.HTTP_201_CREATED, response_model=ShareOut)
async def share_note(note_id: NoteId, request: Request) -> ShareOut:
    """A read-only link to one note that expires after ACCESS_TOKEN_EXPIRE_MINUTES."""
    await _get_or_404(request, note_id)
    settings = request.app.state.settings
    ttl = settings.access_token_expire_minutes * 60
    token = tokens.sign(settings, SHARE_PURPOSE, str(note_id), ttl)
    # Absolute URL: its scheme is https only when a trusted proxy said so (FORWARDED_ALLOW_IPS).
    return ShareOut(url=str(request.url_for("get_shared_note", token=token)), expires_in=ttl)


@public.get("/shared/{token}", response_model=NoteOut)
async def get_shared_note(token: str, request: Request) -> Note:
    subject = tokens.verify(request.app.state.settings, SHARE_PURPOSE, token)
    if subject is None:
        raise HTTPException(status_code=404, detail="link invalid or expired")
    return await _get_or_404(request, int(subject))


@router.delete("/{note_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_note(note_id: NoteId, request: Request) -> None:
    async with _session(request) as session:
        note = await session.get(Note, note_id)
        if note is None:
            raise HTTPException(status_code=404, detail="note not found")
        await session.delete(note)
        await session.commit()
