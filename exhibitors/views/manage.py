"""The exhibitor's own area: apply, company, booth builder, catalogue and staff.

Every view loads through ``exhibitors.selectors`` (staff of the company only: others get
404; sales staff get 403 on booth and catalogue edits) and writes through one service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from exhibitors import services
from exhibitors.forms import (
    BoothForm,
    CompanyForm,
    ExhibitorApplicationForm,
    InviteForm,
    ProductForm,
    ProductImageForm,
    ProductModelForm,
    RoleForm,
)
from exhibitors.models import ExhibitorMember, Product, ProductImage, StaffInvitation
from exhibitors.selectors import (
    access_exhibitor,
    access_product,
    booth_for_staff,
    memberships_of,
    products_of_exhibitor_for_staff,
    staff_of,
)
from fair.exceptions import ApplicationError, NotFound


def _apply_validation_error(form, error: ValidationError) -> None:
    """Put a service's ValidationError onto the form (field errors where they belong)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    memberships = list(memberships_of(request.user))
    if len(memberships) == 1:
        return redirect("exhibitors:manage", exhibitor_id=memberships[0].exhibitor_id)
    return render(request, "exhibitors/manage/dashboard.html", {"memberships": memberships})


@login_required
def apply(request: HttpRequest) -> HttpResponse:
    form = ExhibitorApplicationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            exhibitor = services.exhibitor_apply(
                user=request.user,
                display_name=data["display_name"],
                legal_name=data["legal_name"],
                country=data["country"],
                province=data["province"],
                city=data["city"],
                website=data["website"],
                year_founded=data["year_founded"],
                main_categories=data["main_categories"],
                description=data["description"],
                business_licence=data["business_licence"],
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                _apply_validation_error(form, error)
            else:
                form.add_error("business_licence", error.messages)
        else:
            messages.success(
                request,
                _(
                    "Thank you! Your application is with the organisers; you will get an email "
                    "when it is reviewed. Meanwhile you can build your booth and catalogue."
                ),
            )
            return redirect("exhibitors:manage", exhibitor_id=exhibitor.pk)
    return render(request, "exhibitors/manage/apply.html", {"form": form})


@login_required
def exhibitor_home(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    exhibitor, membership = access_exhibitor(user=request.user, exhibitor_id=exhibitor_id)
    counts = Product.objects.filter(exhibitor=exhibitor).aggregate(
        total=Count("id"), published=Count("id", filter=Q(is_published=True))
    )
    booth = booth_for_staff(exhibitor=exhibitor)
    return render(
        request,
        "exhibitors/manage/home.html",
        {
            "exhibitor": exhibitor,
            "membership": membership,
            "booth": booth,
            "counts": counts,
            "staff_count": exhibitor.members.count(),
        },
    )


@login_required
def company_edit(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    exhibitor, membership = access_exhibitor(
        user=request.user, exhibitor_id=exhibitor_id, edit=True
    )
    form = CompanyForm(request.POST or None, instance=exhibitor)
    if request.method == "POST" and form.is_valid():
        try:
            services.exhibitor_profile_update(
                user=request.user, exhibitor_id=exhibitor.pk, data=form.cleaned_data
            )
        except ValidationError as error:
            _apply_validation_error(form, error)
        else:
            messages.success(request, _("Company details saved."))
            return redirect("exhibitors:manage", exhibitor_id=exhibitor.pk)
    return render(request, "exhibitors/manage/company.html", {"exhibitor": exhibitor, "form": form})


@login_required
def booth_edit(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    exhibitor, membership = access_exhibitor(
        user=request.user, exhibitor_id=exhibitor_id, edit=True
    )
    booth = booth_for_staff(exhibitor=exhibitor)
    form = BoothForm(request.POST or None, request.FILES or None, instance=booth)
    if request.method == "POST" and form.is_valid():
        files = {name: form.cleaned_data.get(name) for name in ("logo", "banner", "panorama")}
        try:
            services.booth_update(
                user=request.user, exhibitor_id=exhibitor.pk, data=form.cleaned_data, files=files
            )
        except ValidationError as error:
            _apply_validation_error(form, error)
        else:
            messages.success(request, _("Booth saved. Preview it before publishing."))
            return redirect("exhibitors:booth_edit", exhibitor_id=exhibitor.pk)
    return render(
        request,
        "exhibitors/manage/booth_edit.html",
        {"exhibitor": exhibitor, "booth": booth, "form": form},
    )


@login_required
def booth_preview(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    exhibitor, membership = access_exhibitor(user=request.user, exhibitor_id=exhibitor_id)
    booth = booth_for_staff(exhibitor=exhibitor)
    products = Product.objects.filter(exhibitor=exhibitor, is_published=True).prefetch_related(
        "images"
    )[:12]
    return render(
        request,
        "exhibitors/manage/booth_preview.html",
        {"exhibitor": exhibitor, "booth": booth, "products": products, "membership": membership},
    )


@login_required
@require_POST
def booth_publish(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    publish = request.POST.get("publish") == "1"
    try:
        services.booth_publish(user=request.user, exhibitor_id=exhibitor_id, published=publish)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Your booth is published.") if publish else _("Your booth is hidden from buyers."),
        )
    return redirect("exhibitors:booth_preview", exhibitor_id=exhibitor_id)


@login_required
@require_POST
def booth_image_remove(request: HttpRequest, exhibitor_id: int, field: str) -> HttpResponse:
    try:
        services.booth_image_remove(user=request.user, exhibitor_id=exhibitor_id, field=field)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Image removed."))
    return redirect("exhibitors:booth_edit", exhibitor_id=exhibitor_id)


PRODUCTS_PER_PAGE = 50


@login_required
def product_list(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    exhibitor, membership = access_exhibitor(user=request.user, exhibitor_id=exhibitor_id)
    products = products_of_exhibitor_for_staff(exhibitor=exhibitor)
    query = request.GET.get("q", "").strip()[:100]
    state = request.GET.get("state", "")
    if query:
        products = products.filter(Q(name__icontains=query) | Q(sku__icontains=query))
    if state == "published":
        products = products.filter(is_published=True)
    elif state == "draft":
        products = products.filter(is_published=False)
    page = Paginator(products, PRODUCTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "exhibitors/manage/product_list.html",
        {
            "exhibitor": exhibitor,
            "membership": membership,
            "page": page,
            "query": query,
            "state": state,
        },
    )


@login_required
def product_create(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    exhibitor, membership = access_exhibitor(
        user=request.user, exhibitor_id=exhibitor_id, edit=True
    )
    form = ProductForm(request.POST or None, instance=Product(exhibitor=exhibitor))
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(
                user=request.user, exhibitor_id=exhibitor.pk, data=form.cleaned_data
            )
        except ValidationError as error:
            _apply_validation_error(form, error)
        else:
            messages.success(request, _("Product created. Now add its pictures."))
            return redirect("exhibitors:product_images", product_id=product.pk)
    return render(
        request,
        "exhibitors/manage/product_form.html",
        {"exhibitor": exhibitor, "form": form, "product": None},
    )


@login_required
def product_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    product = access_product(user=request.user, product_id=product_id)
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        try:
            services.product_update(
                user=request.user, product_id=product.pk, data=form.cleaned_data
            )
        except ValidationError as error:
            _apply_validation_error(form, error)
        else:
            messages.success(request, _("Product saved."))
            return redirect("exhibitors:product_list", exhibitor_id=product.exhibitor_id)
    return render(
        request,
        "exhibitors/manage/product_form.html",
        {"exhibitor": product.exhibitor, "form": form, "product": product},
    )


@login_required
@require_POST
def product_publish(request: HttpRequest, product_id: int) -> HttpResponse:
    publish = request.POST.get("publish") == "1"
    product = services.product_publish(user=request.user, product_id=product_id, published=publish)
    messages.success(
        request,
        (_("“%(name)s” is published.") if publish else _("“%(name)s” is hidden from buyers."))
        % {"name": product.name},
    )
    return redirect(
        request.POST.get("next")
        if request.POST.get("next", "").startswith("/exhibit/")
        else reverse("exhibitors:product_list", args=[product.exhibitor_id])
    )


@login_required
def product_delete(request: HttpRequest, product_id: int) -> HttpResponse:
    product = access_product(user=request.user, product_id=product_id)
    if request.method == "POST":
        exhibitor_id = product.exhibitor_id
        name = product.name
        services.product_delete(user=request.user, product_id=product.pk)
        messages.success(request, _("“%(name)s” is deleted.") % {"name": name})
        return redirect("exhibitors:product_list", exhibitor_id=exhibitor_id)
    return render(request, "exhibitors/manage/product_delete.html", {"product": product})


@login_required
def product_images(request: HttpRequest, product_id: int) -> HttpResponse:
    product = access_product(user=request.user, product_id=product_id)
    image_form = ProductImageForm()
    model_form = ProductModelForm()
    if request.method == "POST":
        if "model_3d" in request.FILES:
            model_form = ProductModelForm(request.POST, request.FILES)
            if model_form.is_valid():
                try:
                    services.product_model_set(
                        user=request.user,
                        product_id=product.pk,
                        upload=model_form.cleaned_data["model_3d"],
                    )
                except ValidationError as error:
                    model_form.add_error("model_3d", error.messages)
                else:
                    messages.success(request, _("3D model saved."))
                    return redirect("exhibitors:product_images", product_id=product.pk)
        elif "alt_image_id" in request.POST:
            try:
                image_id = int(request.POST["alt_image_id"])
            except ValueError as exc:
                raise NotFound("No such image.") from exc
            services.product_image_update(
                user=request.user, image_id=image_id, alt_text=request.POST.get("alt_text", "")
            )
            messages.success(request, _("Description saved."))
            return redirect("exhibitors:product_images", product_id=product.pk)
        else:
            image_form = ProductImageForm(request.POST, request.FILES)
            if image_form.is_valid():
                try:
                    services.product_image_add(
                        user=request.user,
                        product_id=product.pk,
                        upload=image_form.cleaned_data["image"],
                        alt_text=image_form.cleaned_data["alt_text"],
                    )
                except ValidationError as error:
                    image_form.add_error("image", error.messages)
                except ApplicationError as error:
                    image_form.add_error("image", error.message)
                else:
                    messages.success(request, _("Image added."))
                    return redirect("exhibitors:product_images", product_id=product.pk)
    images = ProductImage.objects.filter(product=product).order_by("position", "id")
    return render(
        request,
        "exhibitors/manage/product_images.html",
        {
            "product": product,
            "exhibitor": product.exhibitor,
            "images": images,
            "image_form": image_form,
            "model_form": model_form,
        },
    )


@login_required
@require_POST
def product_image_remove(request: HttpRequest, image_id: int) -> HttpResponse:
    image = ProductImage.objects.filter(pk=image_id).only("product_id").first()
    if image is None:
        raise NotFound("No such image.")
    services.product_image_remove(user=request.user, image_id=image_id)
    messages.success(request, _("Image removed."))
    return redirect("exhibitors:product_images", product_id=image.product_id)


@login_required
def staff(request: HttpRequest, exhibitor_id: int) -> HttpResponse:
    exhibitor, membership = access_exhibitor(user=request.user, exhibitor_id=exhibitor_id)
    form = InviteForm(request.POST or None)
    if request.method == "POST":
        if not membership.can_edit:
            messages.error(request, _("Only owners and admins can invite colleagues."))
            return redirect("exhibitors:staff", exhibitor_id=exhibitor.pk)
        if form.is_valid():
            try:
                services.staff_invite(
                    actor=request.user,
                    exhibitor_id=exhibitor.pk,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    base_url=request.build_absolute_uri("/"),
                )
            except ApplicationError as error:
                form.add_error("email", error.message)
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]},
                )
                return redirect("exhibitors:staff", exhibitor_id=exhibitor.pk)
    invitations = StaffInvitation.objects.filter(
        exhibitor=exhibitor, accepted_at__isnull=True, revoked_at__isnull=True
    ).order_by("-created_at")
    return render(
        request,
        "exhibitors/manage/staff.html",
        {
            "exhibitor": exhibitor,
            "membership": membership,
            "members": staff_of(exhibitor=exhibitor),
            "invitations": invitations,
            "form": form,
            "roles": ExhibitorMember.Role.choices,
        },
    )


@login_required
@require_POST
def staff_role(request: HttpRequest, member_id: int) -> HttpResponse:
    member = ExhibitorMember.objects.filter(pk=member_id).first()
    if member is None:
        raise NotFound("No such staff member.")
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a valid role."))
    else:
        try:
            services.staff_role_change(
                actor=request.user, member_id=member_id, role=form.cleaned_data["role"]
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Role changed."))
    return redirect("exhibitors:staff", exhibitor_id=member.exhibitor_id)


@login_required
@require_POST
def staff_remove(request: HttpRequest, member_id: int) -> HttpResponse:
    member = ExhibitorMember.objects.filter(pk=member_id).first()
    if member is None:
        raise NotFound("No such staff member.")
    exhibitor_id = member.exhibitor_id
    leaving = member.user_id == request.user.pk
    try:
        services.staff_remove(actor=request.user, member_id=member_id)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("exhibitors:staff", exhibitor_id=exhibitor_id)
    if leaving:
        messages.success(request, _("You have left the company's staff."))
        return redirect("home")
    messages.success(request, _("Staff member removed."))
    return redirect("exhibitors:staff", exhibitor_id=exhibitor_id)


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = StaffInvitation.objects.filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound("No such invitation.")
    services.staff_invitation_revoke(actor=request.user, invitation_id=invitation_id)
    messages.success(request, _("Invitation withdrawn."))
    return redirect("exhibitors:staff", exhibitor_id=invitation.exhibitor_id)


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_by_token(token)
    if invitation is None or not invitation.is_open:
        return render(request, "exhibitors/manage/invitation_invalid.html", status=404)
    if request.method == "POST" and request.user.is_authenticated:
        try:
            member = services.staff_invitation_accept(user=request.user, token=token)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Welcome to the staff of %(company)s.")
                % {"company": member.exhibitor.display_name},
            )
            return redirect("exhibitors:manage", exhibitor_id=member.exhibitor_id)
    return render(
        request, "exhibitors/manage/invitation.html", {"invitation": invitation, "token": token}
    )
