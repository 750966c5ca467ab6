"""Admin for accounts and administrative divisions, including provisioning accounts from a workbook."""

from __future__ import annotations

import io

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from .models import City, Province, User
from .services import user_provision
from .xlsx import WorkbookRejected, open_workbook

USER_COLUMNS = ("用户名", "密码", "角色", "城市代码", "省份代码", "姓名", "邮箱", "电话")
ROLE_WORDS = {
    "城市": "city",
    "城市填报员": "city",
    "省局": "bureau",
    "省通信管理局": "bureau",
    "部": "ministry",
    "工信部": "ministry",
    "管理员": "admin",
    "运营商": "operator",
    "基础电信企业": "operator",
}
MAX_USER_ROWS = 2000


class UserImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Workbook (.xlsx)"))


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "full_name",
        "role",
        "city",
        "province",
        "operator",
        "email",
        "is_active",
        "last_login",
    )
    list_filter = ("role", "is_active", "province", "operator", "city__province")
    search_fields = ("username", "full_name", "email", "city__name", "province__name")
    autocomplete_fields = ("city", "province")
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (gettext_lazy("Role and scope"), {"fields": ("role", "city", "province", "operator")}),
        (gettext_lazy("Person"), {"fields": ("full_name", "email", "phone")}),
        (gettext_lazy("Access"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        # The security officer is a ministry account with the permission "Can browse and export the
        # security audit trail" (or in a group that has it).
        (gettext_lazy("Permissions"), {"fields": ("groups", "user_permissions")}),
        (gettext_lazy("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "password1",
                    "password2",
                    "role",
                    "city",
                    "province",
                    "operator",
                    "full_name",
                    "email",
                ),
            },
        ),
    )
    change_list_template = "admin/gigacity/user/change_list.html"

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="gigacity_user_import"),
            path(
                "import/template.xlsx",
                self.admin_site.admin_view(self.import_template),
                name="gigacity_user_import_template",
            ),
            *super().get_urls(),
        ]

    def import_template(self, request):
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "账号"
        sheet.append(USER_COLUMNS)
        sheet.append(("qingdao01", "请设置初始密码", "city", "370200", "", "张三", "zhangsan@example.cn", ""))
        sheet.append(("shandong01", "请设置初始密码", "bureau", "", "370000", "李四", "", ""))
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = "attachment; filename*=UTF-8''accounts-template.xlsx"
        return response

    def import_view(self, request):
        form = UserImportForm(request.POST or None, request.FILES or None)
        errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            try:
                created, updated = import_users(form.cleaned_data["file"])
            except WorkbookRejected as exc:
                errors = [str(exc)]
            except ValidationError as exc:
                errors = exc.messages
            else:
                messages.success(
                    request,
                    _("%(created)s accounts created, %(updated)s updated.") % {"created": created, "updated": updated},
                )
                return redirect("admin:gigacity_user_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "errors": errors,
            "columns": USER_COLUMNS,
            "title": _("Import accounts from a workbook"),
            "opts": self.model._meta,
        }
        return render(request, "admin/gigacity/user/import.html", context)


def import_users(upload) -> tuple[int, int]:
    """Every row or none: one problem anywhere and nothing is saved, with every problem listed."""
    problems: list[str] = []
    created = updated = 0
    with open_workbook(upload) as workbook:
        sheet = workbook.worksheets[0]
        rows = list(sheet.iter_rows(min_row=1, max_row=MAX_USER_ROWS + 2, max_col=len(USER_COLUMNS), values_only=True))
    if not rows or tuple(str(v or "").strip() for v in rows[0]) != USER_COLUMNS:
        raise ValidationError(
            _("The first row must be the column titles: %(cols)s") % {"cols": "、".join(USER_COLUMNS)}
        )
    if len(rows) > MAX_USER_ROWS + 1:
        raise ValidationError(_("At most %(n)s accounts per workbook.") % {"n": MAX_USER_ROWS})
    with transaction.atomic():
        for number, row in enumerate(rows[1:], start=2):
            values = ["" if v is None else str(v).strip() for v in row]
            if not any(values):
                continue
            username, password, role, city, province, name, email, phone = values
            try:
                with transaction.atomic():
                    _user, was_created = user_provision(
                        username=username,
                        password=password or None,
                        role=ROLE_WORDS.get(role, role),
                        city_code=city,
                        province_code=province,
                        full_name=name,
                        email=email,
                        phone=phone,
                    )
            except ValidationError as exc:
                for field, msgs in exc.message_dict.items():
                    problems.append(
                        _("Row %(row)s, %(field)s: %(msg)s") % {"row": number, "field": field, "msg": " ".join(msgs)}
                    )
                continue
            created += was_created
            updated += not was_created
        if problems:
            transaction.set_rollback(True)
            raise ValidationError(problems)
    return created, updated


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "short_name", "name_en", "region")
    list_filter = ("region",)
    search_fields = ("code", "name", "name_en")


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "province", "kind")
    list_filter = ("kind", "province__region", "province")
    search_fields = ("code", "name", "province__name")
    list_select_related = ("province",)
