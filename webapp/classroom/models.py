"""A classroom in the database: its state, its students and what the class did.

Everything a room needs to carry on after a restart lives here: the component
state the instructor set (lesson, component, parameters, seed, mode), the
students who joined, and every prediction, request and vote of the live
activities.  Redis only carries messages between processes and short-lived
presence; nothing there is needed to rebuild a room.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# Read aloud without confusion: no 0/O and no 1/I.  32 symbols, 6 of them: about
# a billion codes, against a few dozen live rooms and rate-limited guesses.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 6


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_token() -> str:
    return secrets.token_urlsafe(16)


class Room(models.Model):
    class Mode(models.TextChoices):
        INSTRUCTOR = "instructor", _("Instructor-paced")
        STUDENT = "student", _("Student-paced")

    code = models.CharField(max_length=CODE_LENGTH, unique=True)
    instructor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rooms")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    lesson = models.CharField(max_length=64, blank=True)
    component = models.CharField(max_length=64)
    params = models.JSONField(default=dict)  # typed values, as spec.parse_all returns them
    seed = models.PositiveBigIntegerField(default=0)
    preset = models.CharField(max_length=64, blank=True)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.INSTRUCTOR)
    version = models.PositiveIntegerField(default=1)  # raised by every change; clients drop older states
    activity_kind = models.CharField(max_length=16, blank=True)  # "", "predict", "traffic" or "ab"
    activity_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        permissions = [("host_room", "Can host a classroom")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.code

    @property
    def spoken_code(self) -> str:
        """The code in two groups of three, easier to read aloud and to copy from a screen."""
        return f"{self.code[:3]} {self.code[3:]}"


class Participant(models.Model):
    """A student in one room: anonymous, known by a random token kept in their session."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="participants")
    token = models.CharField(max_length=32, unique=True, default=new_token)
    name = models.CharField(max_length=40, blank=True)
    joined_at = models.DateTimeField(auto_now_add=True)


class Question(models.Model):
    """Predict-then-reveal: a question about one numeric metric of the next result."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="questions")
    prompt = models.CharField(max_length=200)
    metric = models.CharField(max_length=200)  # a path into the result's metrics, e.g. strategies.redis.hit_rate
    scale = models.FloatField(default=1.0)  # 100 when the class answers a fraction in percent
    component = models.CharField(max_length=64)
    asked_at = models.DateTimeField(auto_now_add=True)
    revealed_at = models.DateTimeField(null=True, blank=True)
    true_value = models.FloatField(null=True, blank=True)  # the metric times scale, read at the reveal
    params = models.JSONField(default=dict)  # the state the truth was read from
    seed = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["asked_at", "id"]


class Answer(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="answers")
    value = models.FloatField()
    answered_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["question", "participant"], name="one_answer_each")]


class TrafficRun(models.Model):
    """"Be the traffic": each press of a student's button is one request through a real Redis limiter."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="traffic_runs")
    limiter = models.CharField(max_length=16)  # sliding, bucket or fixed
    settings = models.JSONField(default=dict)
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]


class Press(models.Model):
    run = models.ForeignKey(TrafficRun, on_delete=models.CASCADE, related_name="presses")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="presses")
    at = models.DateTimeField(auto_now_add=True)
    allowed = models.BooleanField()
    remaining = models.IntegerField(default=0)
    retry_after_s = models.FloatField(default=0.0)

    class Meta:
        indexes = [models.Index(fields=["run", "allowed"])]


class ABTest(models.Model):
    """A live A/B test: students are assigned a variant by stable hashing and vote."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="ab_tests")
    question = models.CharField(max_length=200)
    variant_a = models.CharField(max_length=400)
    variant_b = models.CharField(max_length=400)
    split = models.FloatField(default=0.5)  # the share of students who see B
    # The name fed to the stable hash with each student's token: one per test, so
    # each new test deals the class afresh, and the same student always sees the same variant.
    experiment = models.CharField(max_length=64)
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]


class Vote(models.Model):
    test = models.ForeignKey(ABTest, on_delete=models.CASCADE, related_name="votes")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="votes")
    variant = models.CharField(max_length=1)
    success = models.BooleanField()
    voted_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["test", "participant"], name="one_vote_each")]
