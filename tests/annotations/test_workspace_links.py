"""The workspace's URLs, reversed once per process: the same as Django's own, for any article and script prefix."""

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix

from annotations.workspace.links import _URLS, workspace_urls


@pytest.mark.parametrize("prefix", ["/", "/newsroom/"])
def test_each_url_is_what_reverse_gives(prefix):
    set_script_prefix(prefix)
    try:
        for article_id in (1, 7, 123456789):
            urls = workspace_urls(article_id)
            assert urls == {key: reverse(name, args=[article_id, *rest]) for key, (name, rest) in _URLS.items()}
            assert urls["span_create"].startswith(prefix)
    finally:
        clear_script_prefix()


def test_an_id_that_is_not_a_number_is_refused():
    with pytest.raises(ValueError):
        workspace_urls("1/../../admin")  # type: ignore[arg-type]
