"""Command-line tools of tap-pipeline: Terraform setup, local runner, benchmarks."""
