"""Signing in to the pages: the ERP integration account works through the API only."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from mesproject.roles import ERP_INTEGRATION, user_has_role


class PagesSignInForm(AuthenticationForm):
    """The sign-in of /accounts/login/: refuses the ERP integration account, whose token
    changes work orders and master data, so its password cannot also open the pages."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "api_only": "This is the ERP integration account: it works through the API only.",
    }

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if user_has_role(user, ERP_INTEGRATION):
            raise forms.ValidationError(self.error_messages["api_only"], code="api_only")
