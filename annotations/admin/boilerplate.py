"""Boilerplate families for curators: largest first, with their variants side by side, and three actions.

Rebuild re-finds families over the whole corpus; dismiss marks a family as not boilerplate for good; suggest
turns a family into pending suggestions of a boilerplate-kind label on every article holding it.
"""

from __future__ import annotations

import difflib

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from annotations.admin.confirm import confirmation_page, confirmed
from annotations.models import Label, LabelKind
from annotations.suggestions.boilerplate import RebuildResult, boilerplate_rebuild
from annotations.suggestions.models import BoilerplateFamily
from annotations.suggestions.propagation import gazetteer_propagate
from annotations.suggestions.selectors import families_by_size, family_sources, family_variants
from annotations.suggestions.services import default_boilerplate_label, family_dismiss, family_suggest


def word_diff(old: str, new: str) -> SafeString:
    """``new`` against ``old`` word by word: removed words in ``<del>``, added ones in ``<ins>``, all escaped."""
    a, b = old.split(), new.split()
    parts: list[SafeString] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(format_html("{}", " ".join(b[j1:j2])))
            continue
        if i2 > i1:
            parts.append(format_html("<del>{}</del>", " ".join(a[i1:i2])))
        if j2 > j1:
            parts.append(format_html("<ins>{}</ins>", " ".join(b[j1:j2])))
    return format_html_join(" ", "{}", ((p,) for p in parts))


def _rebuilt_message(result: RebuildResult) -> str:
    again = f"; {result.dismissed} dismissed famil{'y' if result.dismissed == 1 else 'ies'} stay dismissed"
    return (
        f"Found {result.families} boilerplate famil{'y' if result.families == 1 else 'ies'} "
        f"({result.copies} copies) in {result.articles} articles in {result.seconds:.1f} s"
        f"{again if result.dismissed else ''}."
    )


class SuggestForm(forms.Form):
    label = forms.ModelChoiceField(
        queryset=Label.objects.filter(kind=LabelKind.BOILERPLATE, active=True),
        empty_label=None,
        help_text="A boilerplate label; editors accept or reject each suggestion in their workspace.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["label"].initial = default_boilerplate_label()


@admin.register(BoilerplateFamily)
class BoilerplateFamilyAdmin(admin.ModelAdmin):
    list_display = [
        "excerpt",
        "article_count",
        "source_count",
        "copy_count",
        "labelled_count",
        "variant_count",
        "end_percent",
        "precision_hint",
        "last_seen",
        "status",
    ]
    list_filter = ["status", "precision_hint"]
    search_fields = ["text"]
    search_help_text = "Words in the family's representative text."
    list_per_page = 50
    actions = ["rebuild_families", "suggest_label", "dismiss_families", "propagate_gazetteer"]
    fields = [
        "text",
        "status",
        "precision_hint",
        "counts",
        "variants",
        "sources",
        "first_seen",
        "last_seen",
        "dismissed_at",
        "dismissed_by",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # the field rows above, read-only

    class Media:
        css = {"all": ["css/boilerplate_admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[BoilerplateFamily]:
        return families_by_size(status=None).select_related("dismissed_by")

    def get_urls(self):
        return [
            path(
                "rebuild/",
                self.admin_site.admin_view(self.rebuild_view),
                name="annotations_boilerplatefamily_rebuild",
            ),
            *super().get_urls(),
        ]

    # Families are found, not written: no add, no delete (dismiss instead), nothing editable.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: BoilerplateFamily | None = None) -> bool:
        return False

    def has_curate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("annotations.change_boilerplatefamily")

    def has_suggest_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perms(["annotations.change_boilerplatefamily", "annotations.add_suggestion"])

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {**(extra_context or {}), "can_rebuild": self.has_curate_permission(request)}
        return super().changelist_view(request, extra_context)

    @admin.display(description="Text", ordering="text")
    def excerpt(self, family: BoilerplateFamily) -> str:
        return family.text if len(family.text) <= 100 else family.text[:99] + "…"

    @admin.display(description="Labelled", ordering="labelled")
    def labelled_count(self, family: BoilerplateFamily) -> int:
        return family.labelled  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="At the end", ordering="end_share")
    def end_percent(self, family: BoilerplateFamily) -> str:
        return f"{family.end_share:.0%}"

    @admin.display(description="Counts")
    def counts(self, family: BoilerplateFamily) -> str:
        labelled = family.labelled  # type: ignore[attr-defined]  # annotated by get_queryset
        return (
            f"{family.article_count} articles from {family.source_count} sources; {family.copy_count} copies, "
            f"{labelled} already labelled as boilerplate; {family.variant_count} variants; "
            f"{family.end_share:.0%} at the very end of their article."
        )

    @admin.display(description="Variants (against the representative text)")
    def variants(self, family: BoilerplateFamily) -> SafeString:
        rows = [
            format_html(
                '<li class="nn-variant"><span class="nn-variant-count">{} ×</span> {}</li>',
                count,
                word_diff(family.text, text),
            )
            for text, count in family_variants(family=family)
        ]
        return format_html('<ol class="nn-variants">{}</ol>', format_html_join("", "{}", ((r,) for r in rows)))

    @admin.display(description="Sources")
    def sources(self, family: BoilerplateFamily) -> SafeString:
        return format_html(
            '<ul class="nn-sources">{}</ul>',
            format_html_join("", "<li>{} ({})</li>", family_sources(family=family)),
        )

    # --- actions -----------------------------------------------------------------------------------------------

    @admin.action(description="Rebuild families over the whole corpus", permissions=["curate"])
    def rebuild_families(self, request: HttpRequest, queryset: QuerySet[BoilerplateFamily]):
        if not confirmed(request):
            return confirmation_page(
                self, request, queryset, action="rebuild_families", title="Rebuild boilerplate families",
                lines=[
                    "Every article's end is searched again and families are re-found over the whole corpus "
                    "(the selection does not matter). Dismissed families stay dismissed; suggestions already "
                    "made stay. On a large corpus this takes up to a minute."
                ],
                button="Rebuild",
            )  # fmt: skip
        self.message_user(request, _rebuilt_message(boilerplate_rebuild()), messages.SUCCESS)
        return None

    @admin.action(description="Propagate editors' entity labels corpus-wide (gazetteer)", permissions=["suggest"])
    def propagate_gazetteer(self, request: HttpRequest, queryset: QuerySet[BoilerplateFamily]):
        """Issue 12 point 4: the same service as ``manage.py propagate_labels``."""
        if not confirmed(request):
            return confirmation_page(
                self, request, queryset, action="propagate_gazetteer", title="Propagate labels as a gazetteer",
                lines=[
                    "Every string editors labelled with an entity label (PERSON, ORG...) is suggested wherever "
                    "else it occurs as a whole word, never across or over another label (the selection does not "
                    "matter). Suggestions editors rejected stay rejected."
                ],
                button="Propagate",
            )  # fmt: skip
        result = gazetteer_propagate(actor=request.user)  # type: ignore[arg-type]  # admin users are logged in
        self.message_user(
            request, f"{result.created} suggestion(s) from {result.terms} term(s) over {result.articles} articles."
        )
        return None

    @admin.action(description="Dismiss selected families for good (not boilerplate)", permissions=["curate"])
    def dismiss_families(self, request: HttpRequest, queryset: QuerySet[BoilerplateFamily]):
        if not confirmed(request):
            return confirmation_page(
                self, request, queryset, action="dismiss_families", title="Dismiss boilerplate families",
                lines=[
                    "The selected families are marked as not boilerplate. They make no suggestions, leave the "
                    "JSON listing, and stay dismissed when families are rebuilt. Suggestions already made stay."
                ],
                button="Dismiss", danger=True,
            )  # fmt: skip
        families = list(queryset)
        for family in families:
            family_dismiss(family=family, actor=request.user)  # type: ignore[arg-type]  # admin users are logged in
        self.message_user(request, f"Dismissed {len(families)} famil{'y' if len(families) == 1 else 'ies'}.")
        return None

    @admin.action(description="Suggest a boilerplate label on every copy…", permissions=["suggest"])
    def suggest_label(self, request: HttpRequest, queryset: QuerySet[BoilerplateFamily]):
        form = SuggestForm(request.POST if confirmed(request) else None)
        if not confirmed(request) or not form.is_valid():
            return confirmation_page(
                self, request, queryset, action="suggest_label", title="Suggest a boilerplate label",
                lines=[
                    "Every copy of the selected families becomes a pending suggestion of the label you choose, in "
                    "every article holding it. Copies already labelled as boilerplate, or already suggested with "
                    "this label (even if rejected), are skipped. Editors accept or reject suggestions."
                ],
                button="Suggest", form=form,
            )  # fmt: skip
        label = form.cleaned_data["label"]
        created = labelled = existing = 0
        for family in queryset:
            try:
                result = family_suggest(family=family, label=label, actor=request.user)  # type: ignore[arg-type]
            except ValidationError as error:
                self.message_user(request, f"{family}: {' '.join(error.messages)}", messages.WARNING)
                continue
            created, labelled, existing = (
                created + result.created,
                labelled + result.labelled,
                existing + result.existing,
            )
        self.message_user(
            request,
            f"Created {created} pending {label.name} suggestion(s); skipped {labelled} copies already labelled "
            f"and {existing} already suggested.",
            messages.SUCCESS,
        )
        return None

    # --- the rebuild button (works with no family listed yet) --------------------------------------------------

    def rebuild_view(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        if not self.has_curate_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            self.message_user(request, _rebuilt_message(boilerplate_rebuild()), messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:annotations_boilerplatefamily_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Rebuild boilerplate families",
        }
        return TemplateResponse(request, "admin/annotations/boilerplatefamily/rebuild.html", context)
