"""``{% button_form %}``: the pages' small POST forms through crispy-forms-gds."""

from django.template import engines
from django.test import RequestFactory


def render(text, **context):
    request = RequestFactory().get("/")
    return engines["django"].from_string("{% load gds_forms %}" + text).render(context, request)


def test_a_button_form_posts_its_hidden_inputs_with_a_csrf_token_and_a_gov_uk_button():
    html = render(
        '{% button_form "/go/" "Publish the 2024/25 Q1 snapshot" quarter="2024-06-30" note=evil %}', evil='"><b>'
    )
    assert 'action="/go/"' in html and 'method="post"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<input type="hidden" name="quarter" value="2024-06-30">' in html
    assert 'value="&quot;&gt;&lt;b&gt;"' in html  # hidden values are escaped
    assert 'class="govuk-button"' in html and ">Publish the 2024/25 Q1 snapshot</button>" in html
    assert "<textarea" not in html


def test_a_reason_box_has_its_own_label_and_the_id_asked_for():
    html = render(
        '{% button_form "/rebase/" "Record a rebase" reason="Reason for the rebase" reason_id="rebase-reason-2" secondary=True %}'
    )
    assert '<label for="rebase-reason-2" class="govuk-label">' in html
    assert 'id="rebase-reason-2"' in html and 'name="reason"' in html and 'class="govuk-textarea"' in html
    assert "govuk-button--secondary" in html
