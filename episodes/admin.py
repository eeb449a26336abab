"""Django admin for episodes and compositions, writing through the same services as the API."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages

from common.errors import DomainError
from episodes import services
from episodes.models import Composition, Episode, EpisodeSubscription
from episodes.serializers import validate_layout


def _adopt(target, source) -> None:
    """Let the admin go on with the instance a service saved (its pk, timestamps)."""
    target.__dict__.update(source.__dict__)


def _changed_fields(form, allowed) -> dict:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in allowed}


@admin.register(Episode)
class EpisodeAdmin(admin.ModelAdmin):
    list_display = ["title", "season", "episode_number", "status", "air_date", "updated_at"]
    list_filter = ["status", "season"]
    search_fields = ["title", "description"]
    ordering = ["season", "episode_number"]
    readonly_fields = ["status", "created_by", "created_at", "updated_at"]
    fields = ["title", "season", "episode_number", "description", "air_date", *readonly_fields]
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


class CompositionAdminForm(forms.ModelForm):
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
