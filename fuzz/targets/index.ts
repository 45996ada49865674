/** Every fuzz target; importing this registers them. Add new target modules here. */
import './stanza.ts';
import './pluginServer.ts';
import './sshPublicKey.ts';
import './privateKey.ts';
import './ageStrings.ts';
import './bitwarden.ts';
import './pivSession.ts';
import './schsmSession.ts';
import './ctap2Session.ts';
import './sopsConfig.ts';
import './sopsMetadata.ts';
import './secretsNix.ts';
import './clan.ts';
