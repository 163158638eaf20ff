"""Forms for the no-JavaScript discussion fallback (the services validate too)."""

from __future__ import annotations

from django import forms

from .models import MAX_BODY_CHARS, MAX_CLIENT_ID_CHARS, MAX_TITLE_CHARS


class MessageForm(forms.Form):
    body = forms.CharField(
        label="Message",
        max_length=MAX_BODY_CHARS,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "placeholder": "Write a message… (Markdown; @username to mention)",
            }
        ),
    )
    client_id = forms.CharField(
        max_length=MAX_CLIENT_ID_CHARS, widget=forms.HiddenInput
    )


class MessageEditForm(forms.Form):
    body = forms.CharField(
        label="Message",
        max_length=MAX_BODY_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class ThreadForm(forms.Form):
    title = forms.CharField(label="New topic", max_length=MAX_TITLE_CHARS)
