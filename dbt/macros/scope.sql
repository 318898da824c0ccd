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
