"""factory_boy factories; spans are made through the service so they obey the same rules as the app."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from annotations.models import Label, Span
from annotations.spans.services import span_create
from articles.models import Article, Source, body_sha256


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests")


def user_in(group: str, **kwargs):
    """A user in the role group ``group`` (the groups the data migrations make: Editors, Reviewers, ...)."""
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=group))
    return user


def make_editor(name: str, **kwargs):
    """An editor called ``name``."""
    return user_in("Editors", username=name, **kwargs)


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source
        django_get_or_create = ("domain",)

    domain = factory.Sequence(lambda n: f"source{n}.example")
    name = factory.LazyAttribute(lambda o: o.domain)


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"Article {n}")
    source = factory.SubFactory(SourceFactory)
    url = factory.Sequence(lambda n: f"https://news.example/{n}")
    body = factory.Sequence(lambda n: f"Mara Okonkwo of Larchfield Systems said the chip ships in May. ({n})")
    body_sha256 = factory.LazyAttribute(lambda o: body_sha256(o.body))
    language = "en"


class SpanFactory(factory.django.DjangoModelFactory):
    """``SpanFactory(article=a, label=l, start=0, end=4, annotator=u)``; text is taken from the body."""

    class Meta:
        model = Span

    article = factory.SubFactory(ArticleFactory)
    label = factory.LazyFunction(lambda: Label.objects.get(slug="person"))
    annotator = factory.SubFactory(UserFactory)
    start = 0
    end = 12

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return span_create(**kwargs)
