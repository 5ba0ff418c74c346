"""The catalogue search page and its autocomplete (public: anyone, signed in or not).

A plain GET form (works without JavaScript); htmx swaps only the results when the filters
change. All searching is ``exhibitors.search.products_search``."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django_countries import countries

from exhibitors.models import CURRENCIES
from exhibitors.search import SORTS, SearchParams, products_search, products_suggest

CERTIFICATION_CHOICES = ["CE", "RoHS", "FCC", "UL", "ISO 9001", "FDA", "GS", "CB", "ETL",
                         "LFGB", "REACH", "BSCI"]  # fmt: skip
SORT_LABELS = {
    "relevance": _("Best match"),
    "newest": _("Newest"),
    "price_asc": _("Price: low to high"),
    "price_desc": _("Price: high to low"),
}


class ProductSearchForm(forms.Form):
    """The search box and filters. Invalid values are dropped, never an error page: a
    shared or hand-edited link still searches."""

    q = forms.CharField(
        label=_("Search products and exhibitors"),
        required=False,
        max_length=200,
        widget=forms.SearchInput,
    )
    category = forms.SlugField(label=_("Category"), required=False)
    country = forms.ChoiceField(label=_("Exhibitor country"), required=False)
    currency = forms.ChoiceField(
        label=_("Currency"),
        required=False,
        initial="USD",
        help_text=_("Price filters compare prices in this currency only."),
    )
    price_min = forms.DecimalField(
        label=_("Price from"), required=False, min_value=0, max_digits=12, decimal_places=2
    )
    price_max = forms.DecimalField(
        label=_("Price to"), required=False, min_value=0, max_digits=12, decimal_places=2
    )
    moq_max = forms.IntegerField(label=_("Largest MOQ"), required=False, min_value=1)
    certification = forms.ChoiceField(label=_("Certification"), required=False)
    new_launch = forms.BooleanField(label=_("New launches only"), required=False)
    live = forms.BooleanField(label=_("Live now"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_LABELS.items())
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("Any country")), *countries]
        self.fields["currency"].choices = [(c, c) for c in CURRENCIES]
        self.fields["certification"].choices = [
            ("", _("Any")),
            *((c, c) for c in CERTIFICATION_CHOICES),
        ]
        self.fields["q"].widget.attrs.update({"autocomplete": "off", "list": "search-suggestions"})

    def params(self) -> SearchParams:
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}
        # A field with an invalid value is missing from cleaned_data: it simply does not filter.
        sort = data.get("sort") if data.get("sort") in SORTS else "relevance"
        return SearchParams(
            q=data.get("q", "").strip(),
            category=data.get("category", ""),
            country=data.get("country", ""),
            currency=data.get("currency", "") or "USD",
            price_min=data.get("price_min"),
            price_max=data.get("price_max"),
            moq_max=data.get("moq_max"),
            certification=data.get("certification", ""),
            new_launch=bool(data.get("new_launch")),
            live=bool(data.get("live")),
            sort=sort,
            page=data.get("page") or 1,
        )


def _querystring(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    form = ProductSearchForm(request.GET or None)
    params = form.params() if request.GET else SearchParams()
    result = products_search(params)
    counts = {f.value: f.count for f in result.facets.categories}
    top_categories = [c for c in result.categories if c.parent_id is None]
    category_options = [
        {
            "category": top,
            "count": counts.get(top.slug),
            "sections": [c for c in result.categories if c.parent_id == top.pk],
        }
        for top in top_categories
    ]
    context = {
        "form": form,
        "result": result,
        "params": params,
        "category_options": category_options,
        "querystring": _querystring(request),
        "sort_labels": SORT_LABELS,
    }
    template = (
        "exhibitors/search/_results.html"
        if request.headers.get("HX-Request")
        and request.headers.get("HX-Target") == "search-results"
        else "exhibitors/search/search.html"
    )
    return render(request, template, context)


@require_GET
def suggest(request: HttpRequest) -> JsonResponse:
    """``{"suggestions": [...]}`` for the search box's datalist."""
    response = JsonResponse({"suggestions": products_suggest(request.GET.get("q", ""))})
    response["Cache-Control"] = "public, max-age=60"
    return response
