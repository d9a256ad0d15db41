// The language switch (login page and header, remembered by the browser) and the French of
// the static page, index.html, which `translatePage` applies at start and on every switch.
// Modules register the French of the text they draw themselves.
import { i18n, register, setLang, translatePage } from './i18n.js';

register({
  // Title, login and password change
  'Vigie console': 'Console Vigie',
  "Video-protection centre — operators' console": 'Centre de vidéoprotection — console des opérateurs',
  'User name': "Nom d'utilisateur",
  Password: 'Mot de passe',
  'Log in': 'Se connecter',
  'Every access is recorded in the audit trail.': "Chaque accès est consigné dans le journal d'audit.",
  Language: 'Langue',
  'Your password was set by someone else: choose your own before you go on.':
    "Votre mot de passe a été choisi par quelqu'un d'autre : choisissez le vôtre avant de continuer.",
  'Current password': 'Mot de passe actuel',
  'New password (10+ characters)': 'Nouveau mot de passe (10 caractères ou plus)',
  'New password again': 'Nouveau mot de passe, à nouveau',
  'Set my password': 'Enregistrer mon mot de passe',
  // Header
  Views: 'Vues',
  'live alert feed': 'flux des alertes en direct',
  offline: 'hors ligne',
  'Log out': 'Se déconnecter',
  // Alerts and wall
  Alerts: 'Alertes',
  'show closed': 'afficher les clôturées',
  'No alert.': 'Aucune alerte.',
  'Select an alert.': 'Choisissez une alerte.',
  'Camera wall': 'Mur de caméras',
  'Low-rate live pictures; people are blurred. Zones and current tracks are drawn by the analysis.':
    "Images en direct à faible cadence ; les personnes sont floutées. Les zones et les pistes en cours sont tracées par l'analyse.",
  Sector: 'Secteur',
  // Search
  'Archive search': 'Recherche dans les archives',
  'e.g. red car in the square after 18:00': 'ex. voiture rouge sur la place après 18:00',
  'What to look for': 'Ce que vous cherchez',
  camera: 'caméra',
  Camera: 'Caméra',
  zone: 'zone',
  Zone: 'Zone',
  class: 'classe',
  Class: 'Classe',
  colour: 'couleur',
  Colour: 'Couleur',
  From: 'Du',
  To: 'Au',
  Search: 'Rechercher',
  // Transparency report
  'Transparency report': 'Rapport de transparence',
  Show: 'Afficher',
  'Download CSV': 'Télécharger le CSV',
  'Precision = confirmed / (confirmed + dismissed). False alarms = dismissed as false detection, per camera-day. Time to decision: from arrival in the console to the first confirm or dismiss.':
    'Précision = confirmées / (confirmées + écartées). Fausses alertes = écartées comme fausse détection, par caméra et par jour. '
    + "Délai de décision : de l'arrivée dans la console à la première confirmation ou au premier rejet.",
  'Privacy masks': 'Masques de confidentialité',
  "Areas of each camera's picture that are never shown nor analysed (homes' windows and entrances, private gardens), with the version in force and the share of the picture each hides. Their outlines are in the audit trail (privacy_masks.change).":
    "Zones de l'image de chaque caméra qui ne sont jamais montrées ni analysées (fenêtres et entrées d'habitations, jardins privés), "
    + "avec la version en vigueur et la part de l'image que chacune cache. Leurs contours sont dans le journal d'audit (privacy_masks.change).",
  mask: 'masque',
  version: 'version',
  'in force since': 'en vigueur depuis',
  'changes in period': 'changements sur la période',
  points: 'points',
  'area of the picture': "surface de l'image",
  'camera total': 'total de la caméra',
  'No camera has privacy masks.': "Aucune caméra n'a de masque de confidentialité.",
  // Calibration
  'Rules in calibration': 'Règles en calibrage',
  'Alerts of a rule in calibration go only to this review queue: never to operators, never notified.':
    "Les alertes d'une règle en calibrage vont seulement dans cette file de revue : jamais aux opérateurs, jamais notifiées.",
  Rule: 'Règle',
  Type: 'Type',
  'Right / wrong / unreviewed': 'Justes / fausses / non revues',
  Precision: 'Précision',
  'False alarms per camera-day': 'Fausses alertes par caméra et par jour',
  Span: 'Période',
  Action: 'Action',
  'Review queue': 'File de revue',
  // Audit trail
  'Audit trail': "Journal d'audit",
  'action prefix, e.g. alert.': "début de l'action, ex. alert.",
  Refresh: 'Actualiser',
  'Verify chain': 'Vérifier la chaîne',
  Time: 'Heure',
  Actor: 'Auteur',
  Target: 'Cible',
  Details: 'Détails',
  // Users
  Users: 'Utilisateurs',
  Name: 'Nom',
  Role: 'Rôle',
  State: 'État',
  Sectors: 'Secteurs',
  Actions: 'Actions',
  'New user': 'Nouvel utilisateur',
  operator: 'opérateur',
  supervisor: 'superviseur',
  admin: 'administrateur',
  auditor: 'auditeur',
  analyst: 'analyste',
  'Password (10+ characters)': 'Mot de passe (10 caractères ou plus)',
  'e.g. centre, gare (none: all)': 'ex. centre, gare (aucun : tous)',
  'Add user': "Ajouter l'utilisateur",
  // Legal holds
  'Legal holds': 'Réquisitions',
  'Footage requisitioned by the police or a court, kept beyond the retention limit until the hold is released or its end date passes. Exports under a hold are unblurred (privacy masks stay) and their SHA-256 is kept with the hold. Times are UTC. Every step is recorded in the audit trail.':
    "Images requises par la police ou la justice, conservées au-delà de la durée de conservation jusqu'à la levée de la réquisition "
    + 'ou sa date de fin. Les exports sous réquisition sont non floutés (les masques de confidentialité restent) et leur SHA-256 '
    + "est gardé avec la réquisition. Les heures sont en UTC. Chaque étape est consignée dans le journal d'audit.",
  Reference: 'Référence',
  Cameras: 'Caméras',
  Footage: 'Images',
  Until: "Jusqu'au",
  Reason: 'Motif',
  Exports: 'Exports',
  'No hold.': 'Aucune réquisition.',
  'comma-separated': 'séparées par des virgules',
  'Requisition reference': 'Référence de la réquisition',
  'Place hold': 'Placer la réquisition',
  // Configuration
  Configuration: 'Configuration',
  'Zones and rules of each camera. Applied at once to the running cameras and written to the configuration file; adding a camera is done in the file. Every change is recorded in the audit trail.':
    "Zones et règles de chaque caméra. Appliquées aussitôt aux caméras en marche et écrites dans le fichier de configuration ; "
    + "l'ajout d'une caméra se fait dans le fichier. Chaque changement est consigné dans le journal d'audit.",
  Apply: 'Appliquer',
  'Privacy masks of': 'Masques de confidentialité de',
  'Areas no one may see, such as the windows and entrances of homes or a private garden (CSI L251-3): filled opaque in every picture that leaves the node, unblurred evidence included, and left out of the analysis. Every change is a new version, recorded in the audit trail and listed in the transparency report.':
    "Zones que personne ne doit voir, comme les fenêtres et entrées d'habitations ou un jardin privé (CSI L251-3) : "
    + "remplies d'opaque dans chaque image qui quitte le nœud, preuves non floutées comprises, et exclues de l'analyse. "
    + "Chaque changement est une nouvelle version, consignée dans le journal d'audit et listée dans le rapport de transparence.",
  'New mask': 'Nouveau masque',
  'Finish outline': 'Terminer le contour',
  'Refresh picture': "Actualiser l'image",
  'Discard changes': 'Annuler les changements',
  'Masks drawn on the picture': "Masques tracés sur l'image",
  'Save masks': 'Enregistrer les masques',
  'Advanced (JSON)': 'Avancé (JSON)',
  'Apply JSON': 'Appliquer le JSON',
  Notifications: 'Notifications',
  // Statistics
  Statistics: 'Statistiques',
  'Anonymous counts: crossings of counting lines and entries into counting areas, per class and minute. No picture, no track and no trajectory is kept. Times are in':
    "Comptages anonymes : franchissements des lignes de comptage et entrées dans les zones de comptage, par classe et par minute. "
    + "Aucune image, aucune piste ni aucune trajectoire n'est gardée. Les heures sont données dans le fuseau",
  Step: 'Pas',
  'Time series': 'Série temporelle',
  'Hour of the day': 'Heure de la journée',
  'Day comparison': 'Comparaison de deux jours',
  'Day A': 'Jour A',
  'Day B': 'Jour B',
  Compare: 'Comparer',
});

/**
 * Translates the page into the remembered language and makes both switches (login page and
 * header) change it; `redraw` runs after a switch, once the static page is translated.
 */
export function initLangSwitch() {
  const picks = [...document.querySelectorAll('.lang-select')];
  for (const p of picks) {
    p.value = i18n.lang;
    p.addEventListener('change', () => {
      setLang(p.value);
      for (const other of picks) other.value = i18n.lang;
    });
  }
  translatePage();
}
