"""Text of the demo's emails: campaign steps ColdCopy sends, the replies leads write (interested, not
interested, out of office, unsubscribe requests, referrals, which the scoring's classifier tells apart),
bounce reasons and the links leads click. Placeholders are filled per lead: {first}, {company}, {sender},
{sender_first}, {title}, {colleague}, {return_day}."""

from __future__ import annotations

SUBJECTS = {
    1: (
        "Quick question about {company}",
        "{first}, an idea for {company}'s pipeline",
        "Cutting outbound busywork at {company}",
        "Worth a 15-minute call, {first}?",
    ),
    2: ("Re: Quick question about {company}", "Following up, {first}", "One more thought for {company}"),
}

OPENERS = {
    1: (
        "Hi {first},\n\nI noticed {company} is hiring for sales roles, so outbound is probably on your desk as "
        "{title}. Teams like yours use us to send personal sequences without the copy-paste, and usually book "
        "a third more meetings in the first quarter.\n\nWould it be worth a 15-minute call next week?",
        "Hi {first},\n\nMost {title}s I talk to spend Monday mornings cleaning lead lists instead of selling. We "
        "automate the list, the sequence and the follow-up, and hand your team the replies.\n\nOpen to seeing "
        "how {company} could use it?",
        "Hi {first},\n\nShort one: we help companies like {company} turn cold lists into meetings, with "
        "deliverability handled for you. Here is a two-minute case study from a team your size.\n\nCurious?",
    ),
    2: (
        "Hi {first},\n\nFloating this back to the top of your inbox. If outbound is not a priority at {company} "
        "this quarter, just say so and I will stop writing.",
        "Hi {first},\n\nI know inboxes are busy. The short version: more meetings, less busywork. Should I send "
        "over a few times for a quick call?",
    ),
}

SIGNATURE = "\n\nBest,\n{sender}\nColdCopy Demo · Outreach team"

# (intent, weight, bodies), intents named as the scoring's classifier names them (scoring/intent.py); the
# generator does not store them: classifying replies is the scoring's job.
REPLIES = (
    (
        "interested",
        0.35,
        (
            "Hi {sender_first},\n\nThanks for reaching out, this is timely. Could you do Thursday at 2pm? Please "
            "send an invite.\n\n{first}",
            "Sounds interesting. Can you send pricing and a couple of customer references? Happy to talk next "
            "week.\n\n{first}",
            "Yes, let's talk. My calendar is open Tuesday and Wednesday afternoon.\n\nBest,\n{first}",
        ),
    ),
    (
        "not_interested",
        0.25,
        (
            "Hi {sender_first}, thanks but we're not looking at anything like this right now.\n\n{first}",
            "Not a fit for {company}, we built this in-house.\n\n{first}",
            "We just signed with another vendor. No thanks.",
        ),
    ),
    (
        "out_of_office",
        0.2,
        (
            "I'm out of the office until {return_day} with limited access to email. For anything urgent please "
            "contact {colleague}.\n\n{first}",
            "Thank you for your message. I am currently on leave and will respond when I return on {return_day}.",
        ),
    ),
    (
        "unsubscribe_request",
        0.1,
        (
            "Please remove me from your mailing list.",
            "Unsubscribe. Do not contact me again.",
            "Stop emailing me, I never signed up for this.",
        ),
    ),
    (
        "referral",
        0.1,
        (
            "Hi {sender_first}, I'm not the right person for this. {colleague} runs our outbound team; copying "
            "them here.\n\n{first}",
            "Thanks for the note. You'll want to talk to {colleague}, our Head of Sales, about this.",
        ),
    ),
)

BOUNCE_REASONS = (
    "550 5.1.1 The email account that you tried to reach does not exist",
    "550 5.7.1 Message rejected due to local policy",
    "552 5.2.2 Mailbox full",
    "554 5.4.14 Hop count exceeded - possible mail loop",
)

LINK_PATHS = ("/case-study", "/pricing", "/demo", "/blog/outbound-playbook")
