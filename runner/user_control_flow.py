"""``UserControlFlowTools``: Agno's toolkit whose ``get_user_input`` lets the model ask the person
for values it lacks, naming the fields itself (``agno.tools.user_control_flow``).

Other user-input tools declare their fields (``user_input_fields=``); here the model lists them in
the call (``user_input_fields=[{"field_name", "field_type", "field_description"}]``), so the
requirement's fields come from the arguments. The person answers them like any other user input
(SDK setter, Slack modal, API), and the tool's result hands the answers back to the model.
"""

from __future__ import annotations

from typing import Any

from runner.run_context import RunContext
from runner.tools import Function, Toolkit, UserInputField, refuse_non_finite, render_result


class ModelAskedInput(Function):
    """A user-input step whose fields the model chose in its call (``spec_argument``): the call's
    own arguments are checked against the signature in full; the answers against the fields built
    from them (``validate_input``), not against this tool's signature."""

    spec_argument = "user_input_fields"
    received = "User input received"

    def __init__(self, entrypoint: Any) -> None:
        super().__init__(entrypoint, requires_user_input=True)
        self.user_input_fields = []

    def validate(self, args: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
        if partial:
            refuse_non_finite(args, self.name)
            return dict(args)
        return super().validate(args)

    def execute(self, args: dict[str, Any], context: RunContext | None = None) -> str:
        answers = {k: v for k, v in args.items() if k != self.spec_argument}
        return f"{self.received}: " + render_result(answers)


class _ModelChosenInput(ModelAskedInput):
    """``get_user_input``: a user-input step whose fields are the ones the model asked for."""

    def input_fields(self, provided: dict[str, Any] | None = None) -> list[UserInputField]:
        fields = []
        for spec in (provided or {}).get("user_input_fields") or []:
            if isinstance(spec, dict) and spec.get("field_name"):
                fields.append(
                    UserInputField(
                        name=str(spec["field_name"]),
                        field_type=str(spec.get("field_type") or "str"),
                        description=spec.get("field_description"),
                    )
                )
        return fields


class UserControlFlowTools(Toolkit):
    """Agno's ``UserControlFlowTools()``: gives the model ``get_user_input``."""

    def __init__(self, name: str = "user_control_flow_tools", **_agno_options: Any) -> None:
        del _agno_options  # Agno's instructions options: signoff adds no toolkit instructions
        super().__init__(name=name, tools=[_ModelChosenInput(self.get_user_input)])

    def get_user_input(self, user_input_fields: list[dict[str, Any]]) -> str:
        """Use this tool to get user input for the given fields. Provide all the fields that you
        require the user to fill in, as if they were filling in a form.

        Args:
            user_input_fields: A list of dictionaries, each with field_name (the field to ask for),
                field_type (a python type name: str, int, float, bool, list, dict) and
                field_description (what the field is).
        """
        return "User input received"
