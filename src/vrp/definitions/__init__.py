"""Serious-violence definitions as versioned data files, compiled to DuckDB SQL.

See docs/definitions.md for the file format and the shipped definitions.
"""

from vrp.definitions.engine import (
    ALLOWED_VALUES,
    DATASET_COLUMNS,
    Condition,
    Definition,
    DefinitionError,
    RecordNotFound,
    Rule,
    classify,
    classify_sql,
    explain,
    filters_sql,
    format_explanation,
    get_definition,
    is_match_sql,
    load_definition,
    load_definitions,
    matched_rules_sql,
    rule_sql,
    sql_literal,
)
from vrp.definitions.offences import (
    OffenceCode,
    is_known_offence_code,
    knife_collection_codes,
    normalise_offence_code,
    offence_codes,
)

__all__ = [
    "ALLOWED_VALUES", "DATASET_COLUMNS", "Condition", "Definition", "DefinitionError",
    "OffenceCode", "RecordNotFound", "Rule", "classify", "classify_sql", "explain", "filters_sql",
    "format_explanation", "get_definition", "is_known_offence_code", "is_match_sql",
    "knife_collection_codes", "load_definition", "load_definitions", "matched_rules_sql",
    "normalise_offence_code", "offence_codes", "rule_sql", "sql_literal",
]
