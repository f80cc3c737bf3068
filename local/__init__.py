"""The embedded default: a local Personalize on top of moto, and a runner that deploys the
synthesized template to it the way CloudFormation would."""
