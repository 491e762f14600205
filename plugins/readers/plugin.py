"""Wire readers' participation into Pelican.

* `article_generator_pretaxonomy` (after the threads plugin): each thread's
  `Outcome:` is checked against the owner's vocabulary (`content/outcomes.toml`)
  and set as `article.outcome`, for the thread, its listings and search.
* a generator writes the Ask page (`/ask/`: how to ask, a `mailto:` whose
  subject carries `[ask]`, which `make import SOURCE=email` reads, and a
  search of existing questions) and the outcomes page (`/outcomes/`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from pelican import signals
from pelican.generators import Generator

from stacks_offers import contract
from stacks_offers.metadata import metadata_line

from . import outcomes, tokens

logger = logging.getLogger(__name__)

DEFAULTS = {
    "ASK_URL": "ask/",  # the Ask page (empty ASK_SAVE_AS: none, and no nav link)
    "ASK_SAVE_AS": "ask/index.html",
    # Where the Ask link writes to (empty: THREADS_REPLY_EMAIL's address).
    "ASK_EMAIL": "",
    "OUTCOMES_DATA": "outcomes.toml",  # under PATH: the vocabulary of outcomes
    "OUTCOMES_URL": "outcomes/",
    "OUTCOMES_SAVE_AS": "outcomes/index.html",
    # A form service for hosts that have one: the Ask page and every "Leave a
    # reply" get a form posting there, beside the mailto: link. Its exported
    # submissions are imported with `make import SOURCE=form`.
    "READERS_FORM_SERVICE": "",  # netlify, formspree, staticman or github; "" no form
    "READERS_FORM_ENDPOINT": "",  # where the form posts (github: .../issues/new?template=...)
}

FORM_SERVICES = ("netlify", "formspree", "staticman", "github")


def set_defaults(pelican) -> None:
    settings = pelican.settings
    contract.check_order(settings)
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    if not settings["ASK_SAVE_AS"]:
        settings["ASK_URL"] = ""
    if not settings["OUTCOMES_SAVE_AS"]:
        settings["OUTCOMES_URL"] = ""
    if not settings["ASK_EMAIL"]:
        settings["ASK_EMAIL"] = settings.get("THREADS_REPLY_EMAIL", "")
    check_form_settings(settings)


def check_form_settings(settings) -> None:
    """A form service needs its endpoint, and the endpoint a plain address."""
    service = settings["READERS_FORM_SERVICE"]
    endpoint = settings["READERS_FORM_ENDPOINT"]
    if service not in ("", *FORM_SERVICES):
        raise ValueError(
            f"READERS_FORM_SERVICE is {service!r}: set it to one of {', '.join(FORM_SERVICES)}, "
            'or "" for no forms (see docs/settings.md)'
        )
    if service and service != "netlify" and not endpoint:
        raise ValueError(
            f"READERS_FORM_SERVICE is {service!r} but READERS_FORM_ENDPOINT is empty: set it "
            "to the address the service gave you"
        )
    if endpoint:
        parts = urlsplit(endpoint)
        plain = (parts.scheme == "https" and parts.netloc) or (
            not parts.scheme and endpoint.startswith("/")
        )
        if not plain or any(c in endpoint for c in "\"<> '`"):
            raise ValueError(
                f"READERS_FORM_ENDPOINT is {endpoint!r}: set it to an https:// address "
                "(or, for netlify, a path on the site such as /thanks/)"
            )
        if not service:
            raise ValueError(
                "READERS_FORM_ENDPOINT is set but READERS_FORM_SERVICE is not: name the "
                f"service ({', '.join(FORM_SERVICES)})"
            )


def form_action(endpoint: str) -> str:
    """`{{ READERS_FORM_ENDPOINT | form_action }}`: the address without its query."""
    parts = urlsplit(endpoint)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def form_hidden(endpoint: str) -> list[tuple[str, str]]:
    """`{{ READERS_FORM_ENDPOINT | form_hidden }}`: the query's fields, as hidden
    inputs (a GET form drops its action's query: a GitHub issue form's
    `template=` would be lost)."""
    return parse_qsl(urlsplit(endpoint).query)


def add_filters(generator) -> None:
    generator.env.filters["form_action"] = form_action
    generator.env.filters["form_hidden"] = form_hidden


def vocabulary(settings) -> list[outcomes.Outcome]:
    path = Path(settings["PATH"]) / settings["OUTCOMES_DATA"]
    try:
        return outcomes.load(path)
    except outcomes.OutcomesError as exc:
        logger.error("%s", exc)
        return []


def attach_outcomes(generator) -> None:
    """article_generator_pretaxonomy: `article.outcome` (an Outcome, or None)."""
    known = vocabulary(generator.settings)
    for name in ("articles", "drafts", "hidden_articles"):
        for article in getattr(generator, name, []):
            article.outcome = None
            value = article.metadata.get("outcome")
            if value is None:
                continue
            where = article.source_path
            line = metadata_line(where, "outcome")
            where = f"{where}:{line}" if line else where
            if getattr(article, "kind", "post") == "post":
                logger.error(
                    "%s: a blog post has no outcome; only threads do. Remove the Outcome: line.",
                    where,
                )
                continue
            found, fix = outcomes.match(str(value), known)
            if found is None:
                logger.error("%s: unknown outcome %r. %s", where, str(value), fix)
                continue
            article.outcome = found


class ReadersGenerator(Generator):
    """The Ask page and the outcomes page."""

    parallel_output = True  # every file goes through the writer

    def generate_context(self):
        known = vocabulary(self.settings)
        threads = [
            a for a in self.context.get("articles", []) if getattr(a, "outcome", None) is not None
        ]
        threads.sort(key=lambda a: a.date, reverse=True)
        self.outcome_groups = [(o, [a for a in threads if a.outcome == o]) for o in known]

    def generate_output(self, writer):
        settings = self.settings
        relative = settings["RELATIVE_URLS"]
        if settings["ASK_SAVE_AS"]:
            writer.write_file(
                settings["ASK_SAVE_AS"],
                self.get_template("ask"),
                self.context,
                page_name="ask",
                url=settings["ASK_URL"],
                relative_urls=relative,
                ask_token=tokens.ASK_TOKEN,
                ask_mailto=tokens.ask_mailto(settings["ASK_EMAIL"])
                if settings["ASK_EMAIL"]
                else "",
            )
        if settings["OUTCOMES_SAVE_AS"]:
            writer.write_file(
                settings["OUTCOMES_SAVE_AS"],
                self.get_template("outcomes"),
                self.context,
                page_name="outcomes",
                url=settings["OUTCOMES_URL"],
                relative_urls=relative,
                outcome_groups=self.outcome_groups,
            )


def get_generators(pelican):  # noqa: ARG001 - signal API
    return ReadersGenerator


def register() -> None:
    signals.initialized.connect(set_defaults)
    signals.article_generator_pretaxonomy.connect(attach_outcomes)
    signals.get_generators.connect(get_generators)
    signals.generator_init.connect(add_filters)
