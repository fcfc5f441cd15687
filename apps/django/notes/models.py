from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models

WORD = re.compile(r"\w+")


class Note(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="")
    word_count = models.PositiveIntegerField(default=0)
    # Added by an expand-only migration: the database default lets a release that does not know the
    # column keep inserting rows while it runs beside this one.
    pinned = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "notes"
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.word_count = len(WORD.findall(f"{self.title} {self.body}"))
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # Postgres text cannot hold NUL; the insert would fail with a database error, a 500.
        for field in ("title", "body"):
            if "\x00" in getattr(self, field):
                raise ValidationError({field: "must not contain NUL characters"})

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "word_count": self.word_count,
            "pinned": self.pinned,
            "created_at": self.created_at.isoformat(),
        }
