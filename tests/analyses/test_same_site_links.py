"""Links and redirects that user input decides stay on this site."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from analyses.models import is_link, validate_action_link, validate_link

OFF_SITE_PATHS = ["/\\evil.example/x", "//evil.example/x", "/\\/evil.example", "/\t/evil.example"]


@pytest.mark.parametrize("value", OFF_SITE_PATHS)
def test_a_path_that_a_browser_opens_off_site_is_not_a_link_here(value):
    assert not is_link(value)
    with pytest.raises(ValidationError):
        validate_link(value)
    with pytest.raises(ValidationError):
        validate_action_link(value)


@pytest.mark.parametrize("value", ["/runs/12/#log", "/revisions/3/", "https://ci.example/b/1"])
def test_same_site_paths_and_http_urls_are_links(value):
    assert is_link(value)
    validate_link(value)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:1"]
)
def test_the_analyze_button_never_redirects_off_site(history, operator, login, next_url):
    run = history.run({})

    response = login(operator).post(reverse("analyze-run", args=[run.pk]), {"next": next_url})

    assert response.status_code == 302
    assert response["Location"] == reverse("analysis-list")


@pytest.mark.django_db
def test_the_analyze_button_goes_back_to_a_same_site_page(history, operator, login):
    run = history.run({})
    back = reverse("run-detail", args=[run.pk])

    response = login(operator).post(reverse("analyze-run", args=[run.pk]), {"next": back})

    assert response["Location"] == back
