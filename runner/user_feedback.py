"""``UserFeedbackTools``: Agno's toolkit whose ``ask_user`` lets the model put multiple-choice
questions to the person (``agno.tools.user_feedback``).

A call pauses the run as a user-input step with one field per question (the question's text is the
field's name, its option labels the only values allowed; a list for a multi-select question). The
person answers with ``requirement.provide_user_feedback({question: [labels]})`` (or a Slack modal,
the API: any surface that answers user input), and the tool's result hands the picks to the model.
"""

# No ``from __future__ import annotations``: ask_user's signature is read at run time (the tool's
# JSON schema comes from AskUserQuestion), so its annotations must be real classes.

from typing import Any

from pydantic import BaseModel, Field

from runner.tools import Toolkit, UserInputField
from runner.user_control_flow import ModelAskedInput
from storage.errors import InvalidDecision
from storage.records import RequirementRecord


class AskUserOption(BaseModel):
    """One answer the person may pick."""

    label: str = Field(..., description="Short display text for this option (1-5 words).")
    description: str | None = Field(None, description="Explanation of what this option means.")


class AskUserQuestion(BaseModel):
    """One question, with the options offered."""

    question: str = Field(..., description="The question to ask the user. Must end with a question mark.")
    header: str = Field(..., description="Short label for the question (max 12 chars), e.g. 'Destination'.")
    options: list[AskUserOption] = Field(..., description="2-4 options for the user to choose from.")
    multi_select: bool = Field(False, description="If true, the user can select multiple options.")


class _AskUser(ModelAskedInput):
    """``ask_user``: a user-input step whose fields are the model's questions."""

    asks_for_feedback = True
    """Marks the requirement as Agno's user feedback (``requirement.needs_user_feedback``)."""
    spec_argument = "questions"
    received = "User feedback received"

    def input_fields(self, provided: dict[str, Any] | None = None) -> list[UserInputField]:
        return [
            UserInputField(
                name=q.question,
                field_type="list" if q.multi_select else "str",
                description=q.header,
                required=False,
                choices=[o.label for o in q.options],
            )
            for q in questions_of(provided or {})
        ]



def questions_of(args: dict[str, Any]) -> list[AskUserQuestion]:
    """The questions of an ``ask_user`` call (its stored arguments)."""
    return [AskUserQuestion.model_validate(q) for q in args.get("questions") or []]


def feedback_questions(record: RequirementRecord) -> list[AskUserQuestion]:
    """Agno's ``requirement.user_feedback_schema``: the questions, with their options."""
    return questions_of(record.tool_args)


def feedback_answers(record: RequirementRecord, selections: dict[str, Any]) -> dict[str, Any]:
    """Agno's ``provide_user_feedback({question: [labels]})`` as user-input values: a single-choice
    question takes its one label, a multi-select the list; a question left without a pick is left
    out (every question is optional). More than one pick for a single-choice question is refused."""
    multi = {q.question: q.multi_select for q in feedback_questions(record)}
    values: dict[str, Any] = {}
    for question, picked in selections.items():
        labels = [picked] if isinstance(picked, str) else list(picked or [])
        if not labels:
            continue
        if not multi.get(question, False):
            if len(labels) > 1:
                raise InvalidDecision(f"{question!r} takes one option, not {len(labels)}", question)
            values[question] = labels[0]
        else:
            values[question] = labels
    return values


class UserFeedbackTools(Toolkit):
    """Agno's ``UserFeedbackTools()``: gives the model ``ask_user``."""

    def __init__(self, name: str = "user_feedback_tools", **_agno_options: Any) -> None:
        del _agno_options  # Agno's instructions options: signoff adds no toolkit instructions
        super().__init__(name=name, tools=[_AskUser(self.ask_user)])

    def ask_user(self, questions: list[AskUserQuestion]) -> str:
        """Ask the user one or more multiple-choice questions and wait for their picks.

        Args:
            questions: The questions, each with a short header, 2-4 options and whether several
                options may be picked.
        """
        return "User feedback received"
