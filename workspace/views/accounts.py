"""Signing up, the profile page, e-mail confirmation, verification and invite codes, and the lockout page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from workspace import email_addresses, selectors, services
from workspace.audit import client_ip
from workspace.forms import (
    ClinicianSignUpForm,
    PatientProfileForm,
    PatientSignUpForm,
    ProfileForm,
    RedeemCodeForm,
)
from workspace.models import ClinicianProfile
from workspace.views.access import clinician_required


def _sign_up(request, form, *, sign_up, errors, welcome: str, template: str):
    """The sign-up flow both kinds of account share: on a valid POST,
    ``sign_up(data, **account)`` makes the user from the form's data and the
    account fields every kind has; a domain error listed in ``errors`` (class →
    form field) goes onto its field; success logs in, welcomes and goes home."""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = sign_up(
                data,
                username=data["username"],
                email=data["email"],
                password=data["password1"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                ip=client_ip(request),
                url_builder=request.build_absolute_uri,
            )
        except tuple(errors) as exc:
            field = next(f for cls, f in errors.items() if isinstance(exc, cls))
            form.add_error(field, str(exc))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, welcome)
            return redirect("home")
    return render(request, template, {"form": form})


def signup_clinician(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    return _sign_up(
        request,
        ClinicianSignUpForm(request.POST or None),
        sign_up=lambda data, **account: services.clinician_sign_up(
            **account,
            title=data["title"],
            specialties=list(data["specialties"]),
            registration_number=data["registration_number"],
            registration_body=data["registration_body"],
            institution=data["institution"],
        ),
        errors={services.EmailTaken: "email"},
        welcome="Welcome to Consilium. Staff will verify your registration; until "
        "then you see only your own cases. We sent you a link to confirm your "
        "email address.",
        template="registration/signup_clinician.html",
    )


def signup_patient(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    return _sign_up(
        request,
        PatientSignUpForm(
            request.POST or None, initial={"code": request.GET.get("code", "")}
        ),
        sign_up=lambda data, **account: services.patient_sign_up(
            code=data["code"], **account
        ),
        errors={services.InviteCodeError: "code", services.EmailTaken: "email"},
        welcome="Your account is linked to your clinician. We sent you a link to "
        "confirm your email address.",
        template="registration/signup_patient.html",
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_patient:
        form = PatientProfileForm(
            request.POST or None, instance=user, initial={"email": user.email}
        )
        if request.method == "POST" and form.is_valid():
            with transaction.atomic():
                if _email_change(request, form):
                    form.save()
                    messages.success(request, "Profile saved.")
                    return redirect("profile")
        return render(
            request,
            "workspace/profile_patient.html",
            {
                "form": form,
                "links": selectors.clinicians_of(user),
                "redeem": RedeemCodeForm(),
            },
        )
    profile_obj, _ = ClinicianProfile.objects.get_or_create(user=user)
    form = ProfileForm(
        request.POST or None,
        instance=profile_obj,
        initial={
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "time_zone": user.time_zone,
        },
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if _email_change(request, form):
                registration_changed = "registration_number" in form.changed_data
                form.save()
                user.first_name = form.cleaned_data["first_name"]
                user.last_name = form.cleaned_data["last_name"]
                user.time_zone = form.cleaned_data["time_zone"]
                user.save(update_fields=["first_name", "last_name", "time_zone"])
                if registration_changed and profile_obj.is_verified:
                    # A new registration number needs fresh verification.
                    profile_obj.verification = ClinicianProfile.Verification.UNVERIFIED
                    profile_obj.save(update_fields=["verification"])
                messages.success(request, "Profile saved.")
                return redirect("profile")
    return render(
        request, "workspace/profile.html", {"form": form, "profile": profile_obj}
    )


def _email_change(request: HttpRequest, form) -> bool:
    """Start confirming a changed address; False (with a form error) if refused."""
    try:
        sent = email_addresses.email_change_request(
            user=request.user,
            address=form.cleaned_data["email"],
            url_builder=request.build_absolute_uri,
            ip=client_ip(request),
        )
    except email_addresses.EmailError as exc:
        form.add_error("email", str(exc))
        return False
    # Only the address fields: the patient form's instance is this user, and
    # its other edits (name, time zone) must survive until form.save().
    request.user.refresh_from_db(
        fields=["email", "pending_email", "email_confirmed_at"]
    )
    if sent:
        messages.info(
            request,
            f"We sent a confirmation link to {request.user.pending_email}. Your "
            "address changes once you follow it.",
        )
    return True


@require_POST
@login_required
def email_confirmation_resend(request: HttpRequest) -> HttpResponse:
    try:
        address = email_addresses.email_confirmation_send(
            user=request.user, url_builder=request.build_absolute_uri
        )
    except email_addresses.EmailError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"We sent a new confirmation link to {address}.")
    return redirect("profile")


def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the link confirms; POST confirms (mail scanners only GET)."""
    if request.method == "POST":
        try:
            user = email_addresses.email_confirm(token=token, ip=client_ip(request))
        except email_addresses.EmailError as exc:
            return render(
                request,
                "registration/email_confirm.html",
                {"error": str(exc)},
                status=400,
            )
        messages.success(request, f"{user.email} is confirmed.")
        return redirect("profile" if request.user.is_authenticated else "login")
    try:
        account, address = email_addresses.confirmation_preview(token)
    except email_addresses.EmailError as exc:
        return render(
            request, "registration/email_confirm.html", {"error": str(exc)}, status=400
        )
    return render(
        request,
        "registration/email_confirm.html",
        {"account": account, "address": address},
    )


@require_POST
@clinician_required
def request_verification(request: HttpRequest) -> HttpResponse:
    try:
        services.verification_request(user=request.user, ip=client_ip(request))
    except services.ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, "Verification requested. Staff will review your registration."
        )
    return redirect("profile")


@require_POST
@login_required
def redeem_code(request: HttpRequest) -> HttpResponse:
    form = RedeemCodeForm(request.POST)
    if form.is_valid():
        try:
            services.invite_code_redeem(
                patient=request.user,
                code=form.cleaned_data["code"],
                ip=client_ip(request),
            )
        except services.ServiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "You are now linked to another clinician.")
    else:
        messages.error(request, form.errors["code"][0])
    return redirect("profile")


def login_locked_out(request: HttpRequest, credentials: dict | None = None):
    """django-axes' lockout page: who is paused, for how long, and what to do."""
    from django.conf import settings

    username = (credentials or {}).get("username") or request.POST.get("username", "")
    return render(
        request,
        "registration/lockout.html",
        {
            "username": username,
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        },
        status=429,
    )
