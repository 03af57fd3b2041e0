from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render


def lockout_response(request, credentials, *args, **kwargs):
    """Answer a locked-out sign-in (django-axes) with 429 and a plain explanation."""
    return HttpResponse("Too many failed sign-ins. Try again in 30 minutes.", status=429)


@login_required
def security(request):
    return render(request, "accounts/security.html", {})


@login_required
def staff_support(request):
    return render(request, "accounts/staff_support.html", {})


@login_required
def two_factor_required(request, workspace_slug):
    return render(request, "accounts/two_factor_required.html", {"workspace_slug": workspace_slug})
