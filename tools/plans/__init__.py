"""Reviewed plans: ``terraform plan`` -> a review (Rego policies, checkov) -> apply of exactly that plan.

Commands (``python -m tools.plans <command> --help``): ``plan``, ``review``, ``apply``.  Each command
module exposes ``add_parser(subparsers)`` and ``main(argv)``, so an operator CLI can register them.
"""
