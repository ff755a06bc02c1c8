"""Parsers for every file format qgov reads, and no rules: YAML (line-aware, CloudFormation
tags), HCL, notebooks, pip arguments, Dockerfiles and dependency manifests. Each parser takes
text and raises ``ParseError``; ``SourceFile`` exposes their results as cached views."""
