"""The phrase vocabulary of the reply-intent rules, per language, as regular expressions.

Patterns run on `phrase_match.normalise(text)`: lower case, straight apostrophes, one space between
words, so a phrase may span a line break. `^` is the start of the lead's own words (greeting removed). Every pattern is a plain
alternation with bounded repeats (no nested quantifiers): linear time on a stranger's text.
"""

from __future__ import annotations

from hubspot_pipeline.scoring.phrase_match import Phrases, PhraseSet

UNSUBSCRIBE: Phrases = {
    "en": (
        r"\bunsubscrib",
        r"\bopt(ing)?[- ]?(me |us )?out\b",
        r"\bremove (me|us|my (e-?mail|email address|address|details|name|data|contact))\b",
        r"\b(take|get) (me|us|my (e-?mail|address|name)) off\b",
        r"\boff (of )?(your|the|this) (mailing |distribution |e-?mail |contact |sales |marketing )?list",
        r"\b(remove|delete|take|drop|erase)\b.{0,40}\bfrom (your|the|this) (mailing |distribution |contact "
        r"|e-?mail )?(list|database|system|crm|records)",
        r"\b(stop|quit|cease) (e-?mailing|contacting|messaging|spamming|sending|writing|following up|reaching out)",
        r"\bstop (all )?(these|this|the|your) (e-?mails|messages|emails)\b",
        r"\b(don't|do not|never) (e-?mail|contact|message|spam|write to|reach out to) (me|us)\b",
        r"\bno (more|further) (e-?mails|messages|contact|follow[- ]ups)\b",
        r"\b(delete|erase|remove) (all |any )?(of )?(my|our) (personal )?(data|e-?mail|email address|address"
        r"|details|information|contact details)\b",
        r"\b(erase|delete|remove) (all )?(the )?personal data\b",
        r"^stop\b[.! ]{0,5}$",
        r"\bspam(ming)? me\b",
    ),
    "de": (
        r"\babmelden\b",
        r"\bmelden sie mich (bitte )?ab\b",
        r"\babbestellen\b",
        r"\baustragen\b",
        r"\btragen sie mich (bitte )?aus\b",
        r"\b(aus|von) (ihrem|ihrer|dem|der|eurem|eurer) (e-?mail-?)?(verteiler|liste|mailingliste|datenbank)",
        r"\bkeine (weiteren |weitere )?(e-?mails|mails|nachrichten|werbung)\b",
        r"\b(kontaktieren|schreiben|anschreiben|mailen) sie mich (bitte )?nicht mehr\b",
        r"\bnicht mehr (kontaktieren|anschreiben|schreiben|mailen)\b",
        r"\blöschen sie (bitte )?meine (daten|e-?mail|adresse|kontaktdaten)",
        r"\bwiderspreche\b",
    ),
    "fr": (
        r"\bdésabonn",
        r"\bdésinscri",
        r"\b(me|nous) (retirer|supprimer|enlever|rayer) de (votre|vos|la|cette) (liste|fichier|base)",
        r"\bretirez[- ](moi|nous)\b",
        r"\bne (m'|me )?(écrivez|envoyez|contactez|sollicitez) plus\b",
        r"\bne plus (m'écrire|me contacter|me solliciter|recevoir)\b",
        r"\bsupprim(er|ez) (mes|mon) (données|coordonnées|adresse)",
    ),
    "es": (
        r"\b(dar|darme|darnos|den|denme) de baja\b",
        r"\bbaja de (su|la|esta) lista\b",
        r"\bno me (envíen|envíe|envíes|manden|mande|escriban|escriba|contacten|contacte) más\b",
        r"\b(eliminen|elimine|borren|borre|quiten|quite|saquen|saque) (mi|mis)\b",
        r"\b(quitar|sacar|eliminar|borrar)(me)? de (su|la|sus) (lista|base)",
        r"\bcancelar (la |mi )?suscripción\b",
        r"\bdes(u|in)scrib",
    ),
    "pt": (
        r"\bdescadastr",
        r"\bme (remova|removam|retire|retirem|tirem|exclua|excluam)\b",
        r"\b(remover|retirar|tirar|excluir)(-me)? da (sua |vossa )?lista",
        r"\bcancelar (a |minha )?inscrição\b",
        r"\bnão me (enviem|envie|mandem|mande|contatem|contate|contactem) mais\b",
        r"\bparem de (me )?(enviar|mandar|contatar)",
    ),
    "nl": (
        r"\buitschrijven\b",
        r"\bschrijf (mij|me|ons) uit\b",
        r"\bafmelden\b",
        r"\b(haal|verwijder) (mij|me|ons) (van|uit) (de|uw|jullie|je) (lijst|mailinglijst|bestand|database)",
        r"\bgeen (e-?mails|mails|berichten) meer\b",
        r"\bniet meer (mailen|benaderen|contacteren|e-?mailen)\b",
    ),
    "it": (
        r"\bdisiscriv",
        r"\b(cancellatemi|cancellami|rimuovetemi|rimuovermi|toglietemi)\b",
        r"\b(contattatemi|scrivetemi|inviatemi) più\b",
        r"\bnon (mi )?(contattate|scrivete|inviate|contattare|scrivere) più\b",
        r"\bannullare l'iscrizione\b",
    ),
}

# Bodies of automatic replies whose headers and subject did not say so.
OUT_OF_OFFICE_BODY: Phrases = {
    "en": (
        r"\b(i am|i'm|i will be|i'll be) (currently |now )?(out of (the )?office|away from (the )?office"
        r"|on (annual|parental|maternity|paternity|sick|medical|study|holiday) leave|on (vacation|holiday|leave))\b",
        r"\b(i am|i'm) (currently )?out (of the office )?(until|till|through)\b",
        r"\bout of (the )?office (until|till|through|from|starting|and|with|on)\b",
        r"\booo (until|till|through|from)\b",
        r"\b(limited|no|without|intermittent|restricted) access to (my )?e-?mails?\b",
        r"\byour (e-?mail|message) (will|is) not (be )?(forwarded|read)\b",
        r"\bi will (respond|reply) (to your (e-?mail|message) )?(when|upon|on|after) (i return|my return)\b",
        r"\bthis (mailbox|inbox|address|e-?mail address) is (not|no longer) (monitored|in use|checked|active)\b",
        r"\bthis is an automat(ed|ic) (message|reply|response|e-?mail)\b",
    ),
    "de": (
        r"\b(nicht im büro|außer haus|im urlaub|in urlaub|auf dienstreise|in elternzeit)\b",
        r"\bwieder (im büro|erreichbar|da|zurück)\b",
        r"\bihre (e-?mail|nachricht) wird nicht weitergeleitet\b",
        r"\beingeschränkte[nm]? zugriff\b",
    ),
    "fr": (
        r"\b(je suis|je serai) (actuellement )?(absente?|en congés?|en vacances|en déplacement|hors du bureau)\b",
        r"\baccès limité\b",
        r"\bà mon retour\b",
    ),
    "es": (
        r"\b(fuera de la oficina|de vacaciones|acceso limitado)\b",
        r"\b(estoy|estaré) ausente\b",
        r"\ba mi regreso\b",
    ),
    "pt": (
        r"\b(estou|estarei) (ausente|de férias|fora do escritório)\b",
        r"\bacesso limitado\b",
        r"\bassim que (eu )?voltar\b",
    ),
    "nl": (
        r"\b(ik ben|ben ik) (momenteel |tot .{0,30})?(afwezig|met vakantie|op vakantie|niet op kantoor)\b",
        r"\bwordt niet doorgestuurd\b",
        r"\bweer bereikbaar\b",
    ),
    "it": (
        r"\b(sono|sarò) (fuori ufficio|fuori sede|in ferie|assente)\b",
        r"\baccesso limitato\b",
        r"\bal mio rientro\b",
    ),
}

# "It is not me": the lead deflects. Decides a referral on its own.
REFERRAL_DEFLECTION: Phrases = {
    "en": (
        r"\bnot the (right|best|correct|appropriate|relevant) (person|contact|one|guy)\b",
        r"\bwrong (person|contact|guy|department)\b",
        r"\bnot (my|in my) (area|department|remit|wheelhouse|decision)\b",
        r"\bnot (the |a )?decision[- ]?maker\b",
        r"\bnot involved in\b",
        r"\bi (don't|do not|no longer) (handle|manage|deal with|own|look after|run) (this|that|these)\b",
        r"\b(don't|do not) handle (this|that) any ?more\b",
        r"\bi (left|moved on from|changed) (this|that|the|my) (role|position|company|job)\b",
        r"\bi'm in [a-z]{2,20}, not\b",
        r"^not me\b",
    ),
    "de": (
        r"\bnicht zuständig\b",
        r"\bbei mir (an der )?falsch\b",
        r"\bnicht (der|die) richtige (ansprechpartner|ansprechpartnerin|person)\b",
    ),
    "fr": (
        r"\bpas (la bonne personne|le bon interlocuteur|la bonne interlocutrice)\b",
        r"\bne suis pas (en charge|responsable|concernée?)\b",
    ),
    "es": (r"\bno soy la persona (adecuada|indicada|correcta)\b", r"\bno me corresponde\b"),
    "pt": (r"\bnão sou a pessoa (certa|correta|indicada)\b",),
    "nl": (r"\bniet de (juiste|aangewezen) persoon\b", r"\bga ik niet over\b"),
    "it": (r"\bnon sono la persona giusta\b", r"\bnon me ne occupo\b"),
}

# "Talk to X": sends us to someone else. A referral when it names another address, or in its strongest forms.
REFERRAL_REDIRECT: Phrases = {
    "en": (
        # "email"/"contact" are nouns too ("how did you get my email"): verbs only when asked for or followed
        # by an address.
        r"\b(please|you can|best to|you should|kindly|feel free to) (reach out to|get in touch with|contact|email"
        r"|e-mail|write to)\b",
        r"\b(reach out to|get in touch with|contact|email|e-mail|write to) ?:? ?[a-z0-9._%+-]{1,64}@",
        r"\b(reach out to|get in touch with) (?!you\b|me\b|us\b|them\b)",
        r"\byou('ll| will)? (want|need) to (talk|speak) (to|with)\b",
        r"\b(talk|speak) (to|with) (our|my colleague|my co-?founder|him|her)\b",
        r"\b(suggest|recommend) (you )?(talk|speak|reach out|contact)",
        r"\btry (talking|speaking|reaching out) to\b",
        r"\b(is|would be) the (person|one|people) to (talk|speak|ask)",
        r"\bbest (person|contact|bet) (is|would be|to)\b",
        r"\bbetter (fit|person) to (talk|speak)",
        r"\b(forwarding|forwarded) (this|it|your (e-?mail|note|message)) to\b",
        r"\b(cc'?ing|cc'?d|copied|copying|looping in|looped in)\b",
        r"\btook over\b",
        r"\b(handles|owns|runs) (all )?(our )?[a-z ]{0,25}(purchas|procure|vendor|partnership|hiring|recruit|budget)",
    ),
    "de": (
        r"\bwenden sie sich (bitte )?an\b",
        r"\bansprechpartner(in)? (ist|wäre)\b",
        r"\bzuständig ist\b",
    ),
    "fr": (
        r"\bcontactez plutôt\b",
        r"\b(vous )?adress(er|ez)[- ]vous à\b|\bvous adresser à\b",
        r"\bvoir avec\b",
    ),
    "es": (r"\bcontacte (a|con)\b", r"\bpóngase en contacto con\b", r"\bhable con\b", r"\bescriba a\b"),
    "pt": (r"\bfale com\b", r"\bentre em contato com\b", r"\bprocure (o|a)\b"),
    "nl": (r"\bneem (dan )?contact op met\b", r"\bkunt u (beter )?(contact opnemen met|mailen naar)\b"),
    "it": (r"\bsi rivolga a\b", r"\bcontatti pure\b", r"\brivolgersi a\b", r"\bscriva a\b"),
}

INTERESTED: Phrases = {
    "en": (
        r"\blet'?s (talk|chat|do it|connect|meet|schedule|set (something|it|one|a call|a time|this) up|set up"
        r"|book|find a time|hop on|jump on|go)\b",
        r"\b(book|schedule|set up|arrange|grab|find) (a |an |some )?(call|meeting|demo|chat|time|slot|intro)\b",
        r"\b(send|share|forward|email) (me |us |over )?(some |more |the |a |an |your |a few )?(more )?(info"
        r"|information|details|deck|one[- ]pager|pricing|prices|price list|case stud(y|ies)|references|proposal"
        r"|brochure|overview|materials?|examples?)\b",
        r"\b(more|further) (info|information|details)\b",
        r"\b(very |really |definitely |quite |somewhat )?interested\b",
        r"\b(sounds|looks|seems) (good|great|interesting|useful|relevant|promising)\b",
        r"\b(happy|glad|keen|open|available|free) to (chat|talk|connect|meet|jump|hop|hear|learn|discuss)\b",
        r"\bopen to (a |an )?(quick )?(call|chat|conversation|meeting|demo)\b",
        r"\b(i'd|i would|we'd|we would) (like|love) (a|to (see|hear|learn|talk|chat|discuss|book|get|try|have))\b",
        r"\b(what|how much) (does|do|would|will) (it|this|that|pricing|your pricing|the pricing) (cost|costs"
        r"|look like|run)\b",
        r"\b(pricing|price list|minimum contract|a demo|quick call|short call|quick chat)\b",
        r"\b(calendly\.com|meetings\.hubspot\.com|cal\.com/|savvycal\.com)",
        r"\bcall me\b",
        r"\b(find|grab|set up|book|have|get|spare) (\d{1,2}|fifteen|thirty|a few) (min|mins|minutes)\b",
        r"\b(could|can|shall) we (talk|chat|meet|speak|find a time|set up)\b",
        r"\b(intrigued|curious to (hear|learn|see))\b",
        r"\bwhat (would|does|will) (onboarding|implementation|the process|it|this) look like\b",
        r"\b(does|would|how about|how's|what about|is) (mon|tues|wednes|thurs|fri)day\b",
        r"\b(mon|tues|wednes|thurs|fri)day (works|at|afternoon|morning)\b",
        r"\b(talk|chat|speak) next week\b",
        r"\btell me more\b",
        r"\bcount me in\b",
        r"\bsend (a|the|me a) (calendar )?invite\b",
        r"^(yes|yep|yeah|yup|sure|absolutely|definitely|of course)\b",
        r"\b(good|great|perfect) timing\b",
        r"\btiming('s| is) (actually )?(good|great|perfect)\b",
        r"\bwe('re| are) (actually |currently )?(evaluating|looking (at|for|into))\b",
        r"\bwe need (help|this|something like)\b",
        r"\b(could|would|might) be (useful|helpful|interesting|relevant|a fit|a good fit)\b",
    ),
    "de": (
        r"\bklingt (spannend|interessant|gut)\b",
        r"\binteressant\b",
        r"\bmehr (infos?|informationen)\b",
        r"\b(ja,? )?gerne\b",
        r"\btelefonieren\b",
        r"\bgespräch\b",
        r"\btermin\b",
        r"\bwas kostet\b",
    ),
    "fr": (
        r"\bça (m'|nous )intéresse\b",
        r"\bintéress(é|ée|és|ant|ante)\b",
        r"\bdisponible\b",
        r"\benvoyez[- ]moi\b",
        r"\bpourquoi pas\b",
        r"\ben discuter\b",
    ),
    "es": (
        r"\b(me|nos) interesa\b",
        r"\binteresante\b",
        r"\bmás información\b",
        r"\bpodemos hablar\b",
        r"\bllamada\b",
    ),
    "pt": (
        r"\b(tenho|temos) interesse\b",
        r"\bmais informações\b",
        r"\bpodemos conversar\b",
        r"\binteressante\b",
    ),
    "nl": (r"\bklinkt (interessant|goed)\b", r"\bmeer informatie\b", r"\bbellen\b", r"\bgeïnteresseerd\b"),
    "it": (
        r"\b(mi|ci) interessa\b",
        r"\binteressante\b",
        r"\bpossiamo sentirci\b",
        r"\bpiù informazioni\b",
        r"\bchiamata\b",
    ),
}

NOT_INTERESTED: Phrases = {
    "en": (
        r"\bnot (really |very |at all |currently |that |too )?interested\b",
        r"\bno interest\b",
        r"\b(un|dis)interested\b",
        r"\bno,? thanks?( you)?\b",
        r"\bthanks?,? but no\b",
        r"\b(we|i) (already|currently) (use|have|work with|pay for|got)\b",
        r"\bwe('re| are) already (using|working with)\b",
        r"\b(happy|satisfied|content) with (our|the|my) (current|existing)\b",
        r"\bnot (a|the right|a good) fit\b",
        r"\b(isn't|is not|not) (a )?(priority|relevant|for us)\b",
        r"\bno (budget|need|plans to)\b",
        r"\bnot (looking|in the market|buying)\b",
        r"\b(we're|we are|i'm|i am) (all set|good|fine|covered)\b",
        r"\bin[- ]house\b",
        r"\b(decided|chose|chosen|going|gone|went) (to go )?with (another|a different|someone else)\b",
        r"^(no|nope|nah|pass)\b(?! problem| worries)",
        r"\b(i'll|we'll|i will|we will) pass\b",
        r"\b(doesn't|does not|wouldn't|would not) make sense\b",
        r"\b(don't|do not) need (it|this|that|your)\b",
        r"\bnot (at|right) (this|the) (time|moment)\b",
        r"\blocked in\b",
        r"\bsigned (a|an)\b.{0,30}\bcontract\b",
        r"\bi don't think so\b",
        r"\banswer is no\b",
        r"\b(isn't|is not|not) something (we|i)('d| would)?\b",
        r"\bdidn't work for us\b",
        r"\b(hold|holding) off\b",
    ),
    "de": (
        r"\bkein (interesse|bedarf)\b",
        r"\bnein,? danke\b",
        r"\bnicht interessiert\b",
        r"\b(haben|nutzen) (bereits|schon)\b",
    ),
    "fr": (
        r"\bpas (intéress|besoin|pour nous)",
        r"\bnon,? merci\b",
        r"\bdéjà (une|un|notre) (solution|prestataire|outil)",
    ),
    "es": (
        r"\bno (me|nos) interesa\b",
        r"\bno (estamos|estoy) interesad",
        r"\bno,? gracias\b",
        r"\bya (tenemos|trabajamos con|contamos con)\b",
    ),
    "pt": (r"\bnão (tenho|temos) interesse\b", r"\bnão,? obrigad", r"\bjá (temos|usamos|trabalhamos com)\b"),
    "nl": (r"\bgeen (interesse|behoefte)\b", r"\bnee,? (bedankt|dank je)\b", r"\bniet geïnteresseerd\b"),
    "it": (
        r"\bnon (mi|ci) interessa\b",
        r"\bnon (siamo|sono) interessat",
        r"\bno,? grazie\b",
        r"\b(abbiamo|usiamo) già\b",
    ),
}

# Neither yes nor no: acknowledgements, "later", questions about who we are.
NEUTRAL: Phrases = {
    "en": (
        r"\b(get|come) back to you\b",
        r"\bcircle back\b",
        r"\blet me (think|check|get back|review|discuss)\b",
        r"\b(get|be) in touch (again )?(then|in|later|next)\b",
        r"\b(reach|check) (back|out) (again )?(in|later|next)\b",
        r"\b(reply|respond|answer) (properly )?later\b",
        r"\b(take|have) a (look|closer look)\b",
        r"\bno decision\b",
        r"\bcheck with (the|my|our) (team|boss|manager|colleagues)\b",
        r"\blet you know\b",
        r"\bwho (is this|are you)\b",
        r"\bhow did you get my\b",
        r"\bremind me\b",
        r"\bwhat (does your company|do you|does your team) (do|does)\b",
        r"\bis this (an )?automated\b",
        r"\b(spoke|talked|speaking) (to|with) your colleague\b",
        r"\bmean to send this\b",
        r"\b(cut off|resend|send (this|it) again)\b",
        r"^(thanks|thank you|thx|received|got it|noted|ok|okay|k)\b[.!, a-z]{0,25}$",
    ),
    "de": (r"\bmelde mich\b", r"\bwer sind sie\b", r"\bwoher haben sie\b", r"\bkomme (auf sie )?zurück\b"),
    "fr": (r"\bbien reçu\b", r"\bje reviens vers vous\b", r"\bqui êtes[- ]vous\b"),
    "es": (r"\brecibido\b", r"\blo reviso\b", r"\ble (digo|comento) algo\b"),
    "pt": (r"\brecebido\b", r"\bvou (ver|analisar)\b"),
    "nl": (r"\bontvangen\b", r"\bkom (er )?op terug\b"),
    "it": (r"\bricevuto\b", r"\bne parlo\b", r"\bvi faccio sapere\b"),
}

UNSUBSCRIBE_PHRASES = PhraseSet(UNSUBSCRIBE)
OUT_OF_OFFICE_PHRASES = PhraseSet(OUT_OF_OFFICE_BODY)
DEFLECTION_PHRASES = PhraseSet(REFERRAL_DEFLECTION)
REDIRECT_PHRASES = PhraseSet(REFERRAL_REDIRECT)
INTERESTED_PHRASES = PhraseSet(INTERESTED)
NOT_INTERESTED_PHRASES = PhraseSet(NOT_INTERESTED)
NEUTRAL_PHRASES = PhraseSet(NEUTRAL)
