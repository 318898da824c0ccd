"""What the companies of the stateful test should look like after a sync, from what people did and when only.

A company appears at the first sync after a lead of its domain was live, named by its domain on both sides
(the test's leads give no company name). Between two syncs each side may edit its name (ColdCopy's
`companies` row, HubSpot's record), archive it (HubSpot) or merge two (HubSpot). At the sync:

- an edit on one side only is that side's value on both; on both sides, the workspace's policy decides
  (`latest`: the later edit, ties to ColdCopy);
- archived: `unlink` ends the pair (ColdCopy's name stays as it is, nothing flows after), `delete_lead`
  ends it and marks the ColdCopy company deleted, `keep` forgets it: the company rests until ColdCopy edits
  it again or a full sync reads it, and is then created anew in HubSpot with ColdCopy's name;
- merged (primary, other): the primary's company keeps the survivor (HubSpot keeps the primary's name), the
  other's pair ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Company:
    name: str  # ColdCopy's
    hubspot_name: str  # HubSpot's, while the pair is live
    hubspot_id: str | None = None
    coldcopy_at: int | None = None  # the last ColdCopy edit since the last sync
    hubspot_at: int | None = None
    pending: str | None = None  # "archived" or "merged_away" since the last sync
    status: str = "live"  # live, ended, deleted, resting


@dataclass
class CompanyOracle:
    policy: str
    on_archive: str
    companies: dict[str, Company] = field(default_factory=dict)  # by domain

    def live(self) -> dict[str, Company]:
        return {d: c for d, c in self.companies.items() if c.status == "live" and c.pending is None}

    def edit_coldcopy(self, domain: str, name: str, at: int) -> None:
        company = self.companies[domain]
        company.name, company.coldcopy_at = name, at

    def edit_hubspot(self, domain: str, name: str, at: int) -> None:
        company = self.companies[domain]
        company.hubspot_name, company.hubspot_at = name, at

    def archive(self, domain: str) -> None:
        self.companies[domain].pending = "archived"

    def merge(self, primary: str, other: str, survivor: str, at: int) -> None:
        """HubSpot keeps the primary's name on a survivor modified at `at`: a HubSpot edit of the primary
        since the last sync is dated by the merge (the sync reads the record's modification time)."""
        company = self.companies[primary]
        company.hubspot_id = survivor
        if company.hubspot_at is not None:
            company.hubspot_at = at
        self.companies[other].pending = "merged_away"

    def settle(self, domains: set[str], full: bool) -> None:
        """The sync: `domains` are the domains of the live leads (each has a company after it)."""
        for domain in sorted(domains - set(self.companies)):
            self.companies[domain] = Company(domain, domain)
        for company in self.companies.values():
            self._settle_one(company, full)

    def _settle_one(self, company: Company, full: bool) -> None:
        edited = company.coldcopy_at is not None
        if company.pending == "merged_away":
            company.status = "ended"
        elif company.pending == "archived":
            company.status = {"unlink": "ended", "delete_lead": "deleted", "keep": "resting"}[self.on_archive]
            edited = False  # the run that learns of the archive syncs nothing of the pair
        elif company.status == "resting" and (edited or full):
            company.status, company.hubspot_name, company.hubspot_id = "live", company.name, None
        elif company.status == "live":
            if edited and company.hubspot_at is not None:
                company.name = company.hubspot_name = self._decide(company)
            elif edited:
                company.hubspot_name = company.name
            elif company.hubspot_at is not None:
                company.name = company.hubspot_name
        company.pending, company.coldcopy_at, company.hubspot_at = None, None, None

    def _decide(self, company: Company) -> str:
        if self.policy == "coldcopy_wins":
            return company.name
        if self.policy == "hubspot_wins":
            return company.hubspot_name
        assert company.coldcopy_at is not None and company.hubspot_at is not None
        return company.name if company.coldcopy_at >= company.hubspot_at else company.hubspot_name
