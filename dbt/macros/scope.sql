{# The runner's scope: one workspace (a Dagster partition) or every workspace. #}
{% macro in_workspace_scope(column) -%}
  {%- if var('workspace_id') -%}
    {{ column }} = '{{ var("workspace_id") }}'::uuid
  {%- else -%}
    true
  {%- endif -%}
{%- endmacro %}

{# The reference day: decay and the day windows are computed at its UTC midnight, so builds of the same day
   agree and a score changes at most once a day without new events. #}
{% macro reference_date() -%}
  {%- if var('reference_date') -%}
    date '{{ var("reference_date") }}'
  {%- else -%}
    (now() at time zone 'UTC')::date
  {%- endif -%}
{%- endmacro %}

{% macro reference_time() -%}
  ({{ reference_date() }}::timestamp at time zone 'UTC')
{%- endmacro %}

{# What the previous build of an incremental model left, read when the model runs (values, not subqueries,
   so the planner sees how few rows are past them and reads those by index): `select_list` over `relation`,
   in the workspace scope, as a dict; empty while dbt only parses. #}
{% macro previous_build(relation, select_list) -%}
  {%- set found = {} -%}
  {%- if execute -%}
    {%- set result = run_query("select " ~ select_list ~ " from " ~ relation ~ " where "
                               ~ in_workspace_scope('workspace_id')) -%}
    {%- for name in result.column_names -%}
      {%- do found.update({name: result.rows[0][loop.index0]}) -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(found) }}
{%- endmacro %}

{# A value from previous_build as SQL: a timestamp literal, or NULL. #}
{% macro timestamp_literal(value) -%}
  {%- if value is none -%} null::timestamptz {%- else -%} '{{ value }}'::timestamptz {%- endif -%}
{%- endmacro %}
