"""The pipeline on a local AWS emulator (moto's server), with no AWS account.

``python -m tools local demo`` (``make demo``) is the whole tour; ``python -m tools local --help`` lists the
commands for working with a kept environment (``cli``).  Modules, each usable alone:

- ``lifecycle``: bring the environment up (emulator + `local` stack) and down, for ``up``, ``demo``, ``down``;
- ``demo``: the demo command (send sample events, deliver, summarize); ``progress``, ``options``: its output
  and the delivery options it shares with ``run``;

- ``emulator``: start and stop moto's server (``emulator_server``: moto, sped up) on a free local port;
- ``stack``: synthesize the `local` stack and run Terraform on it against the emulator;
- ``topology``: functions, queues and event source mappings, read from Terraform's state;
- ``runner``: Lambda's SQS event source mapping, done locally for the handlers' code;
- ``events``, ``faults``, ``inspect_queues``: sample events, injected write failures, peeking and redriving;
- ``session``: the kept environment, recorded in ``.local/session.json``.
"""
