"""factory_boy factories of the project's models."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from episodes.models import Composition, Episode

DEFAULT_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(DEFAULT_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))


class EpisodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Episode

    title = factory.Sequence(lambda n: f"Episode {n}")
    episode_number = factory.Sequence(lambda n: n + 1)
    season = 1
    description = factory.Faker("sentence")


class CompositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Composition

    episode = factory.SubFactory(EpisodeFactory)
    name = factory.Sequence(lambda n: f"Cut {n}")
    layout = factory.LazyFunction(lambda: {"tracks": []})
