"""Every change made in the Django admin goes into the audit trail with its before and after.

`gigacity.admin_site.AdminSite` mixes `AuditedModelAdmin` into every ModelAdmin registered on it,
ours and those of django.contrib.auth, DRF's tokens and django-axes alike, so that no page of the
admin can change data unrecorded. The admin's own paths are covered: the change form (with its
many-to-many fields and inlines), list editing, deletion of one object or of a selection. Custom
admin actions and views call services, which record what they do themselves.
"""

from __future__ import annotations

from gigacity.models import AuditKind

from .record import audit_record, changed_values, redacted, snapshot


class AuditedModelAdmin:
    def save_model(self, request, obj, form, change):
        before = None
        if change:
            stored = type(obj)._base_manager.filter(pk=obj.pk).first()
            before = snapshot(stored) if stored is not None else None
        super().save_model(request, obj, form, change)
        # Recorded once the many-to-many fields are saved too (save_related always follows).
        request._audit_admin_pending = [*getattr(request, "_audit_admin_pending", []), (obj, before, change)]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        pending, request._audit_admin_pending = getattr(request, "_audit_admin_pending", []), []
        for obj, before, was_change in pending:
            after = snapshot(obj)
            if was_change and before is not None:
                old, new = changed_values(before, after)
                if old or new:
                    audit_record(kind=AuditKind.ADMIN_CHANGED, request=request, target=obj, before=old, after=new)
            else:
                audit_record(kind=AuditKind.ADMIN_ADDED, request=request, target=obj, after=redacted(after))

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        # Django fills these lists while saving an inline formset (an admin may empty them when a
        # service saved the rows instead, as the round's thresholds are).
        for obj in getattr(formset, "new_objects", []):
            audit_record(kind=AuditKind.ADMIN_ADDED, request=request, target=obj, after=redacted(snapshot(obj)))
        changed_forms = {id(f.instance): f for f in formset.forms}
        for obj, fields in getattr(formset, "changed_objects", []):
            inline_form = changed_forms.get(id(obj))
            old = {name: inline_form.initial.get(name) for name in fields} if inline_form else {}
            new = {name: snapshot(obj, related=False).get(name) for name in fields}
            audit_record(
                kind=AuditKind.ADMIN_CHANGED, request=request, target=obj, before=redacted(old), after=redacted(new)
            )
        for obj in getattr(formset, "deleted_objects", []):
            audit_record(
                kind=AuditKind.ADMIN_DELETED,
                request=request,
                target=obj,
                target_label=str(obj),
                before=redacted(snapshot(obj, related=False)),
            )

    def delete_model(self, request, obj):
        before, label, pk = snapshot(obj), str(obj), obj.pk
        super().delete_model(request, obj)
        obj.pk = pk  # deleting cleared it; the record names what was deleted
        audit_record(
            kind=AuditKind.ADMIN_DELETED, request=request, target=obj, target_label=label, before=redacted(before)
        )

    def delete_queryset(self, request, queryset):
        doomed = [(obj, str(obj), obj.pk, snapshot(obj)) for obj in queryset]
        super().delete_queryset(request, queryset)
        for obj, label, pk, before in doomed:
            obj.pk = pk
            audit_record(
                kind=AuditKind.ADMIN_DELETED, request=request, target=obj, target_label=label, before=redacted(before)
            )
