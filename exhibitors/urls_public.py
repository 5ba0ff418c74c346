"""Public catalogue pages and the exhibitor's visits page; included by ``exhibitors/urls.py``
into the ``exhibitors`` namespace."""

from django.urls import path

from exhibitors.views import public

urlpatterns = [
    path("exhibitors/", public.directory, name="directory"),
    path("exhibitors/<slug:slug>/", public.booth, name="booth"),
    path("products/<int:product_id>/", public.product, name="product"),
    path("categories/", public.categories, name="categories"),
    path("categories/<slug:slug>/", public.category, name="category"),
    path("exhibit/<int:exhibitor_id>/visits/", public.visits, name="visits"),
]
