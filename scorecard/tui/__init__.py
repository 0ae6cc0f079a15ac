"""The interactive terminal UI (SPEC §7). The only package that imports textual."""
