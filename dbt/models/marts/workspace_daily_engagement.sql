-- Each workspace's engagement per UTC day: events by type, interested replies, and how many leads engaged
-- (opened, clicked or replied). Incremental: only the (workspace, day) rows that got events since the
-- previous build (seq above its high-water mark) are recomputed, whole.
{{ config(unique_key=['workspace_id', 'day']) }}
{% set counted = {'sent': 'sends', 'delivered': 'deliveries', 'opened': 'opens', 'clicked': 'clicks',
                  'replied': 'replies', 'bounced': 'bounces', 'unsubscribed': 'unsubscribes'} %}

{% if is_incremental() %}
{#- The high-water mark as a literal, so only the events past it are read (lead_engagement_scores.sql). -#}
{% set previous = previous_build(this, "coalesce(max(max_event_seq), 0) as max_seq") %}
{% endif %}

with
{% if is_incremental() %}
touched as (
    select distinct e.workspace_id, (e.occurred_at at time zone 'UTC')::date as day
    from {{ ref('stg_email_events') }} as e
    where e.seq > {{ previous.get('max_seq', 0) }}
),
{% endif %}

events as (
    select e.*, (e.occurred_at at time zone 'UTC')::date as day
    from {{ ref('stg_email_events') }} as e
    {% if is_incremental() %}
    inner join touched as t
        on t.workspace_id = e.workspace_id
        and e.occurred_at >= (t.day::timestamp at time zone 'UTC')
        and e.occurred_at < ((t.day + 1)::timestamp at time zone 'UTC')
    {% endif %}
)

select
    ev.workspace_id::text || ':' || ev.day::text as workspace_day,
    ev.workspace_id,
    ev.day,
    {% for event_type, name in counted.items() %}
    count(*) filter (where ev.event_type = '{{ event_type }}')::integer as {{ name }},
    {% endfor %}
    count(*) filter (where ev.event_type = 'replied' and m.intent = 'interested')::integer as interested_replies,
    count(distinct ev.lead_id) filter (where ev.event_type in ('opened', 'clicked', 'replied'))::integer
        as leads_engaged,
    max(ev.seq) as max_event_seq
from events as ev
left join {{ ref('stg_email_messages') }} as m on m.message_id = ev.message_id and ev.event_type = 'replied'
group by ev.workspace_id, ev.day
