"""Notes: a small CRUD API backed by Postgres. New notes get their word count from a Celery task."""

from __future__ import annotations

import logging
from datetime import datetime

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from app.db import Note

log = logging.getLogger(__name__)
router = APIRouter(prefix="/notes", tags=["notes"])

# notes.id is a Postgres integer: a larger id cannot exist, and passing it to the database would
# fail with an out-of-range error (a 500) instead of a client error.
NoteId = Annotated[int, Path(ge=1, le=2_147_483_647)]


class NoteIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=100_000)


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    body: str
    word_count: int | None
    created_at: datetime


def _session(request: Request) -> AsyncSession:
    return AsyncSession(request.app.state.engine, expire_on_commit=False)


def _enqueue_word_count(note_id: int) -> None:
    # Imported here so the web process does not configure Celery until it first needs it.
    from app.celery import count_words

    count_words.apply_async(args=[note_id], retry=False)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=NoteOut)
async def create_note(payload: NoteIn, request: Request) -> Note:
    async with _session(request) as session:
        note = Note(title=payload.title, body=payload.body)
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


@router.get("/{note_id}", response_model=NoteOut)
async def get_note(note_id: NoteId, request: Request) -> Note:
    async with _session(request) as session:
        note = await session.get(Note, note_id)
    if note is None:
        raise HTTPException(status_code=404, detail="note not found")
    return note


@router.delete("/{note_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_note(note_id: NoteId, request: Request) -> None:
    async with _session(request) as session:
        note = await session.get(Note, note_id)
        if note is None:
            raise HTTPException(status_code=404, detail="note not found")
        await session.delete(note)
        await session.commit()
