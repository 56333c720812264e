"""People: person-level partner data, pseudonymised at ingest; cross-agency linkage (Splink) into
stable person ids; and safeguarded cohorts (repeat perpetrators, habitual knife carriers, repeat
victims) for multi-agency review."""
