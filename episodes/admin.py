"""Django admin for episodes and compositions, writing through the same services as the API."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from common.errors import DomainError
from episodes import services
from episodes.models import Composition, Episode, EpisodeSubscription
from episodes.serializers import validate_layout
from realtime.models import Activity

# The logged actions that move an object's version on: who made the last one saved it last.
_VERSION_ACTIONS = {
    Episode: ("updated_episode", "published_episode", "archived_episode"),
    Composition: ("updated_composition",),
}


def _adopt(target, source) -> None:
    """Let the admin go on with the instance a service saved (its pk, timestamps)."""
    target.__dict__.update(source.__dict__)


def _changed_fields(form, allowed) -> dict:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in allowed}


def _last_saved(obj: Episode | Composition) -> tuple[str, Any]:
    """Who saved the object last, and when: its last version-moving activity, if logged."""
    model = type(obj)
    activity = (
        Activity.objects.filter(
            resource_type=model.__name__.lower(),
            resource_id=obj.pk,
            action__in=_VERSION_ACTIONS[model],
        )
        .select_related("user")
        .order_by("-id")
        .first()
    )
    if activity is None:
        return "Someone", obj.updated_at
    who = activity.user.get_username() if activity.user is not None else "The system"
    return who, activity.created_at


class VersionCheckedForm(forms.ModelForm):
    """A change form that refuses to overwrite a save made since it was opened.

    The hidden `loaded_version` is the version the page was rendered with. The stored one is
    read with a row lock, held until the admin's transaction commits with this save, so no
    other save can slip in between the check and the write. A post without it (a script) is
    not checked.
    """

    loaded_version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["loaded_version"] = self.instance.version

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        sent = (cleaned.get("loaded_version") or "").strip()
        if self.instance.pk is None or not sent:
            return cleaned
        if not sent.isdigit() or len(sent) > 18:
            raise forms.ValidationError("The form is damaged; reload the page.", code="version")
        model = type(self.instance)
        stored = (
            model._base_manager.select_for_update()
            .filter(pk=self.instance.pk)
            .values_list("version", flat=True)
            .first()
        )
        if stored is not None and stored != int(sent):
            current = model._base_manager.get(pk=self.instance.pk)
            who, when = _last_saved(current)
            raise forms.ValidationError(
                "%(who)s saved this %(kind)s at %(when)s, after you opened it (it is now at "
                "version %(stored)s; you opened version %(sent)s). Your changes were not "
                "saved: reload the page to see theirs, then make yours again.",
                code="version_conflict",
                params={
                    "who": who,
                    "kind": model._meta.verbose_name,
                    "when": timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S %Z"),
                    "stored": stored,
                    "sent": sent,
                },
            )
        return cleaned


class EpisodeAdminForm(VersionCheckedForm):
    class Meta:
        model = Episode
        fields = ["title", "season", "episode_number", "description", "air_date"]


@admin.register(Episode)
class EpisodeAdmin(admin.ModelAdmin):
    form = EpisodeAdminForm
    list_display = ["title", "season", "episode_number", "status", "air_date", "updated_at"]
    list_filter = ["status", "season"]
    search_fields = ["title", "description"]
    ordering = ["season", "episode_number"]
    readonly_fields = ["status", "created_by", "created_at", "updated_at"]
    fields = [
        "title",
        "season",
        "episode_number",
        "description",
        "air_date",
        "loaded_version",
        *readonly_fields,
    ]
    actions = ["publish", "archive"]

    def save_model(self, request, obj, form, change):
        if change:
            fields = _changed_fields(form, services.EPISODE_EDITABLE_FIELDS)
            saved = services.episode_update(episode=obj, actor=request.user, **fields)
        else:
            fields = {name: form.cleaned_data[name] for name in services.EPISODE_EDITABLE_FIELDS}
            saved = services.episode_create(actor=request.user, **fields)
        _adopt(obj, saved)

    def delete_model(self, request, obj):
        services.episode_delete(episode=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for episode in queryset:
            services.episode_delete(episode=episode, actor=request.user)

    def _transition(self, request, queryset, service, verb: str) -> None:
        done = 0
        for episode in queryset:
            try:
                service(episode=episode, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{episode}: {exc.message}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} episode(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Publish selected episodes", permissions=["change"])
    def publish(self, request, queryset):
        self._transition(request, queryset, services.episode_publish, "published")

    @admin.action(description="Archive selected episodes", permissions=["change"])
    def archive(self, request, queryset):
        self._transition(request, queryset, services.episode_archive, "archived")


class LayoutFormField(forms.JSONField):
    """The admin's layout box: empty means `{}`, and the API's rules apply.

    Django's JSONField lets RecursionError through (a 500), skips validators for `[]`, and
    redisplays a refused value as raw characters that may not encode (lone surrogates).
    """

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return {}
        try:
            converted = super().to_python(value)
        except RecursionError:
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid", params={"value": "…"}
            ) from None
        validate_layout(converted)
        return converted

    def bound_data(self, data: Any, initial: Any) -> Any:
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        text = json.dumps(value, ensure_ascii=False, cls=self.encoder)
        try:
            text.encode()
        except UnicodeEncodeError:
            text = json.dumps(value, cls=self.encoder)
        return text


class CompositionAdminForm(VersionCheckedForm):
    layout = LayoutFormField(required=False, initial=dict)

    class Meta:
        model = Composition
        fields = ["episode", "name", "layout"]


@admin.register(Composition)
class CompositionAdmin(admin.ModelAdmin):
    form = CompositionAdminForm
    list_display = ["name", "episode", "updated_at"]
    list_filter = ["episode__season"]
    search_fields = ["name", "episode__title"]
    list_select_related = ["episode"]
    raw_id_fields = ["episode"]
    readonly_fields = ["created_by", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "episode"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            fields = _changed_fields(form, services.COMPOSITION_EDITABLE_FIELDS)
            saved = services.composition_update(composition=obj, actor=request.user, **fields)
        else:
            fields = {
                name: form.cleaned_data[name] for name in services.COMPOSITION_EDITABLE_FIELDS
            }
            saved = services.composition_create(
                episode=form.cleaned_data["episode"], actor=request.user, **fields
            )
        _adopt(obj, saved)

    def delete_model(self, request, obj):
        services.composition_delete(composition=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for composition in queryset:
            services.composition_delete(composition=composition, actor=request.user)


@admin.register(EpisodeSubscription)
class EpisodeSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["episode", "user", "created_at"]
    list_select_related = ["episode", "user"]
    raw_id_fields = ["episode", "user"]
