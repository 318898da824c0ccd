-- Each lead's engagement at the reference day: event counts by type over 7, 30 and 90 days, when it last
-- engaged (open, click or reply), its last reply's intent, and its score (docs/architecture.md, "Engagement
-- score"): every event is worth its workspace's weight for its kind, halved every half-life days of age at
-- the reference time (UTC midnight of the reference day), summed, rounded, and kept within 0..100.
--
-- Incremental: a build on the day of the previous one recomputes only the leads with events recorded since
-- (seq above the high-water mark) or replies whose intent was decided since, and reads only their events; the
-- first build of a new day recomputes every lead of the scope, since decay and windows moved. An event whose
-- transaction commits behind the high-water mark is counted by the next day's build at the latest.
{{ config(
    unique_key='lead_id',
    post_hook=[
        "delete from {{ this }} as t where {{ in_workspace_scope('t.workspace_id') }}
           and not exists (select 1 from {{ ref('stg_leads') }} as l where l.lead_id = t.lead_id)"
    ],
) }}
{% set counted = {'sent': 'sends', 'opened': 'opens', 'clicked': 'clicks', 'replied': 'replies',
                  'bounced': 'bounces', 'unsubscribed': 'unsubscribes'} %}
{% set kinds = ['open', 'click', 'reply', 'positive_reply', 'bounce', 'unsubscribe'] %}

{% if is_incremental() %}
{#- Read before the model's SQL is sent: the previous build's high-water mark, when it last ran and the oldest
    reference day it holds. As literals, the planner reads only the rows past them, by index; as subqueries
    it guessed a third of the table and read every event of the scope. -#}
{% set previous = previous_build(this, "coalesce(max(max_event_seq), 0) as max_seq, "
    ~ "min(reference_date) < " ~ reference_date() ~ " or min(reference_date) is null as new_day, "
    ~ "max(built_at) as last_built_at") %}
{% endif %}

with reference as (
    select {{ reference_date() }} as reference_date, {{ reference_time() }} as reference_time
),

{% if is_incremental() and not previous.get('new_day', true) %}
changed_leads as (
    select e.lead_id
    from {{ ref('stg_email_events') }} as e
    where e.seq > {{ previous['max_seq'] }}
    union
    select m.lead_id
    from {{ ref('stg_email_messages') }} as m
    where m.intent_classified_at > {{ timestamp_literal(previous['last_built_at']) }}
),
{% endif %}

scope as (
    select l.lead_id, l.workspace_id
    from {{ ref('stg_leads') }} as l
    {% if is_incremental() and not previous.get('new_day', true) %}
    where l.lead_id in (select lead_id from changed_leads)
    {% endif %}
),

events as (
    select
        e.lead_id,
        e.workspace_id,
        e.event_type,
        e.occurred_at,
        e.seq,
        case e.event_type
            when 'opened' then 'open'
            when 'clicked' then 'click'
            when 'bounced' then 'bounce'
            when 'unsubscribed' then 'unsubscribe'
            when 'replied' then
                case m.intent
                    when 'interested' then 'positive_reply'
                    when 'unsubscribe_request' then 'unsubscribe'
                    else 'reply'
                end
        end as scoring_kind,
        greatest(0, extract(epoch from (r.reference_time - e.occurred_at)) / 86400.0) as age_days,
        r.reference_time
    from {{ ref('stg_email_events') }} as e
    inner join scope as s on s.lead_id = e.lead_id
    cross join reference as r
    left join {{ ref('stg_email_messages') }} as m on m.message_id = e.message_id
),

scored as (
    select
        ev.*,
        case ev.scoring_kind
            {% for kind in kinds %}
            when '{{ kind }}' then w.weight_{{ kind }}
            {% endfor %}
            else 0
        end * power(0.5, ev.age_days / w.half_life_days) as points
    from events as ev
    inner join {{ ref('stg_workspace_scoring') }} as w on w.workspace_id = ev.workspace_id
),

per_lead as (
    select
        lead_id,
        workspace_id,
        sum(points) as raw_points,
        max(occurred_at) filter (where event_type in ('opened', 'clicked', 'replied')) as last_engaged_at,
        max(seq) as max_event_seq,
        {% for event_type, name in counted.items() %}
        {% for days in [7, 30, 90] %}
        count(*) filter (
            where event_type = '{{ event_type }}' and occurred_at >= reference_time - interval '{{ days }} days'
        )::integer as {{ name }}_{{ days }}d,
        {% endfor %}
        {% endfor %}
        count(*)::integer as events_total
    from scored
    group by lead_id, workspace_id
),

last_reply as (
    {% if is_incremental() and not previous.get('new_day', true) %}
    {#- Each changed lead's last reply by the messages' lead index. Joined whole (as below), the planner, which
        often guesses a single reply with an intent, scanned the changed leads once per reply: 12,000 replies
        by 10,000 leads took 24 s (docs/benchmarks.md). -#}
    select s.lead_id, lr.intent, lr.intent_confidence, lr.sent_at
    from scope as s
    cross join lateral (
        select m.intent, m.intent_confidence, m.sent_at
        from {{ ref('stg_email_messages') }} as m
        where m.lead_id = s.lead_id and m.intent is not null
        order by m.sent_at desc, m.message_id
        limit 1
    ) as lr
    {% else %}
    select distinct on (m.lead_id) m.lead_id, m.intent, m.intent_confidence, m.sent_at
    from {{ ref('stg_email_messages') }} as m
    inner join scope as s on s.lead_id = m.lead_id
    where m.intent is not null
    order by m.lead_id, m.sent_at desc, m.message_id
    {% endif %}
)

select
    p.lead_id,
    p.workspace_id,
    least(100, greatest(0, round(p.raw_points)))::integer as score,
    round(p.raw_points::numeric, 3) as raw_points,
    p.last_engaged_at,
    lr.intent as last_reply_intent,
    lr.intent_confidence as last_reply_intent_confidence,
    lr.sent_at as last_replied_at,
    {% for name in counted.values() %}
    {% for days in [7, 30, 90] %}
    p.{{ name }}_{{ days }}d,
    {% endfor %}
    {% endfor %}
    p.events_total,
    r.reference_date,
    p.max_event_seq,
    now() as built_at
from per_lead as p
cross join reference as r
left join last_reply as lr on lr.lead_id = p.lead_id
