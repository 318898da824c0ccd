-- Leads that exist (not deleted) in the runner's scope.
select l.id as lead_id, l.workspace_id, l.status
from {{ source('coldcopy', 'leads') }} as l
where l.deleted_at is null and {{ in_workspace_scope('l.workspace_id') }}
