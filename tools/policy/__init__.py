"""Project policy checks on synthesized stacks: what checkov cannot see (``checks``), on ``cdk.tf.json``
read through ``stack_json``; ``cli`` is the ``policy-check`` command."""
