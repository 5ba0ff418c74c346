from django import template

from fair.organiser.nav import organiser_nav

register = template.Library()


@register.simple_tag(takes_context=True)
def organiser_nav_items(context) -> list[dict]:
    request = context.get("request")
    return organiser_nav(request.path if request else "")


@register.filter
def figure(figures: dict, path: str):
    """``figures|figure:"live.streams_live"``: a nested value, or "—" when absent."""
    value = figures
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return "—"
        value = value[part]
    return value


@register.filter
def country_name(code: str) -> str:
    from django_countries import countries

    return str(countries.name(code)) or code
