"""The command line speaks French, like the pages: click's own words (usage, sections, the help option,
its errors) go through the public hooks click offers — a formatter, a context, command classes and the
group's ``main`` — rather than through gettext catalogues, which click reads from the process's locale."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

import click

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
SECTIONS = {"Options": "Options", "Commands": "Commandes", "Positional arguments": "Arguments"}
HELP = "Affiche cette aide et quitte."
VERSION_HELP = "Affiche la version et quitte."
_EXTRAS = (
    (re.compile(r"\bdefault: "), "par défaut : "),
    (re.compile(r"\brequired\b"), "obligatoire"),
    (re.compile(r"\benv var: "), "variable : "),
)


class FrenchFormatter(click.HelpFormatter):
    """Click's help layout with French words and French typography (a space before the colon)."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "Utilisation : " if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{SECTIONS.get(heading, heading)} :\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        super().write_dl([(term, _french_extras(text)) for term, text in rows], col_max, col_spacing)


def _french_extras(text: str) -> str:
    """The ``[default: …; required]`` click appends to an option's help."""
    for pattern, french in _EXTRAS:
        text = pattern.sub(french, text)
    return text


class FrenchContext(click.Context):
    formatter_class = FrenchFormatter


class FrenchCommand(click.Command):
    context_class = FrenchContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[options]")
        super().__init__(*args, **kwargs)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP
        return option


class FrenchGroup(click.Group):
    """The ``learning`` group: its commands and subgroups are French too, and so are the errors ``main`` shows."""

    context_class = FrenchContext
    command_class = FrenchCommand
    group_class = type  # subgroups are FrenchGroups

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[options]")
        kwargs.setdefault("subcommand_metavar", "COMMANDE [ARGUMENTS]...")
        super().__init__(*args, **kwargs)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP
        return option

    def main(  # always exits, like click's standalone mode
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> NoReturn:
        """Run the command like click's standalone mode, with the errors in French on one line of stderr."""
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.Abort:
            click.echo("Interrompu.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except click.UsageError as exc:
            hint = f" (aide : {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
            click.echo(f"Erreur : {french_usage_error(exc)}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"Erreur : {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        sys.exit(result if isinstance(result, int) else 0)


class FrenchUsageError(click.UsageError):
    """A usage error whose message is already ours, in French."""


def _hint(param: click.Parameter | None, fallback: str | None) -> str:
    if param is None:
        return fallback or "?"
    if isinstance(param, click.Option):
        return " / ".join(param.opts)
    return (param.metavar or param.name or "?").upper()


def french_usage_error(exc: click.UsageError) -> str:
    """Click's usage errors, said in French."""
    if isinstance(exc, FrenchUsageError):
        return exc.message
    if isinstance(exc, click.NoSuchOption):
        maybe = f" (vouliez-vous dire {' ou '.join(exc.possibilities)} ?)" if exc.possibilities else ""
        return f"option inconnue : {exc.option_name}{maybe}"
    if isinstance(exc, click.MissingParameter):
        if exc.param_type == "argument" or isinstance(exc.param, click.Argument):
            return (
                f"argument manquant : {_hint(exc.param, exc.param_hint if isinstance(exc.param_hint, str) else None)}"
            )
        return f"option manquante : {_hint(exc.param, exc.param_hint if isinstance(exc.param_hint, str) else None)}"
    if isinstance(exc, click.BadOptionUsage):
        return f"l’option {exc.option_name} demande une valeur"
    if isinstance(exc, click.BadParameter):
        hint = _hint(exc.param, exc.param_hint if isinstance(exc.param_hint, str) else None)
        return f"valeur invalide pour {hint}"
    found = re.match(r"No such command '(.*)'", exc.message)
    if found:
        return f"commande inconnue : {found.group(1)}"
    found = re.match(r"Got unexpected extra arguments? \((.*)\)", exc.message)
    if found:
        return f"argument en trop : {found.group(1)}"
    if exc.message.startswith("Missing command"):
        return "commande manquante"
    return "la commande est mal formée"
