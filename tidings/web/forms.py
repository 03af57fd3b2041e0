"""The sample form of the kit page: one field of each kind, shown with its inline errors."""

from django import forms


class KitSampleForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="A short help text sits under the control.")
    email = forms.EmailField(label="Email", help_text="An invalid value keeps what was typed.")
    channel = forms.ChoiceField(choices=[("email", "Email"), ("sms", "SMS")], widget=forms.RadioSelect)
    topics = forms.MultipleChoiceField(
        choices=[("news", "Newsletter"), ("events", "Events"), ("offers", "Offers")],
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    agree = forms.BooleanField(label="I have a lawful basis to store this")
