"""The classroom's HTML forms: joining with a code, starting a room."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CODE_LENGTH
from .rooms import MAX_NAME_CHARS, normalise_code


class JoinForm(forms.Form):
    code = forms.CharField(
        label=_("Class code"), max_length=16,
        help_text=_("Six letters and digits, as your instructor shows them; spaces do not matter."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                      "spellcheck": "false", "inputmode": "text",
                                      "size": CODE_LENGTH + 2}),
    )
    name = forms.CharField(
        label=_("Your name (optional)"), max_length=MAX_NAME_CHARS, required=False,
        help_text=_("Leave it empty to stay anonymous; answers are shown to the class without names."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )

    def clean_code(self) -> str:
        code = normalise_code(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError(_("A class code has six letters and digits, such as K7P 4XM."))
        return code


class StartForm(forms.Form):
    lesson = forms.CharField(max_length=64, required=False)
    component = forms.CharField(max_length=64, required=False)
