"""Word lists the demo-data generator draws from. Small on purpose: combinations give the variety."""

FIRST_NAMES = (
    "Ada Alan Alice Amara Ana Andre Anika Arjun Ava Ben Bianca Carlos Chen Chloe Daniel Dara Diego Elena Eli Emma "
    "Erik Farah Felix Fatima Gabriel Grace Hana Hugo Ines Isaac Ivy Jamal Jana Jonas Julia Kai Kenji Lara Leo Lina "
    "Lucas Maya Mateo Mei Mia Nadia Nils Noah Olga Omar Paula Priya Rafael Rosa Sam Sara Sofia Tariq Theo Uma "
    "Victor Wen Yara Yusuf Zoe"
).split()

LAST_NAMES = (
    "Abbott Adeyemi Almeida Andersen Bauer Becker Bianchi Brooks Castro Chen Costa Cruz Dubois Evans Fischer "
    "Garcia Gomez Haddad Hansen Ibrahim Ito Jansen Kaur Kim Kowalski Larsen Lopez Martin Meyer Moreau Murphy Nakamura "
    "Nguyen Novak Okafor Olsen Park Patel Perez Petrov Quinn Rossi Santos Schmidt Silva Singh Smith Suzuki Tanaka "
    "Torres Van Dijk Wagner Walsh Weber Wilson Yamamoto Young Zhang"
).split()

COMPANY_STEMS = (
    "Acme Apex Arcadia Beacon Blue Bright Cedar Cobalt Crest Delta Ember Evergreen Falcon Fern Granite Harbor "
    "Helix Horizon Iris Juniper Keystone Lumen Maple Meridian Nimbus Northwind Nova Oak Orbit Pioneer Prism Quartz "
    "Radiant Redwood Sable Sierra Spruce Summit Tidal Vertex Willow Zenith"
).split()

COMPANY_SUFFIXES = (
    "Labs Systems Analytics Cloud Logistics Health Robotics Media Partners Software Energy Foods".split()
)

TITLES = (
    "CEO|CTO|COO|VP Sales|VP Marketing|Head of Growth|Sales Manager|Account Executive|Marketing Manager|"
    "Founder|Co-Founder|Director of Operations|Product Manager|Engineering Manager|RevOps Lead|SDR"
).split("|")

INDUSTRIES = "software fintech healthcare logistics retail manufacturing media education energy".split()

CAMPAIGN_NAMES = (
    "Q1 Outbound|Founders Intro|Webinar Follow-up|Product Launch|Re-engagement|Partner Program|Holiday Offer|"
    "Case Study Push|Event Invite|Free Trial Nudge"
).split("|")
