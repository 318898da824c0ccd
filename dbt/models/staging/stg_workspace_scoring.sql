-- Each workspace's scoring settings: its weights (PUT /config), any weight it did not set taken from the
-- defaults, and the decay's half-life in days.
{% set kinds = ['open', 'click', 'reply', 'positive_reply', 'bounce', 'unsubscribe'] %}
{% set defaults = var('default_weights') %}
select
    w.id as workspace_id,
    {% for kind in kinds %}
    coalesce((c.engagement_weights ->> '{{ kind }}')::double precision, {{ defaults[kind] }}) as weight_{{ kind }},
    {% endfor %}
    coalesce(c.engagement_half_life_days, {{ var('default_half_life_days') }}) as half_life_days
from {{ source('coldcopy', 'workspaces') }} as w
left join {{ source('coldcopy', 'hubspot_sync_config') }} as c on c.workspace_id = w.id
where {{ in_workspace_scope('w.id') }}
