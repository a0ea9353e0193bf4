// Imported by deploy.vy, from its own folder.
fn shout(s) { upper(s) }
