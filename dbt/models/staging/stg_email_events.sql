-- Email events of the runner's scope, with the order they were recorded in (seq: the incremental models'
-- high-water mark).
select
    e.id as event_id,
    e.workspace_id,
    e.lead_id,
    e.message_id,
    e.event_type,
    e.occurred_at,
    e.seq
from {{ source('coldcopy', 'email_events') }} as e
where {{ in_workspace_scope('e.workspace_id') }}
