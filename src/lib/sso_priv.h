/*
 * sso_priv.h - AWS IAM Identity Center (SSO) profiles for creds.c (internal to
 * the library). See sso.c.
 */
#ifndef ECSREV_SSO_PRIV_H
#define ECSREV_SSO_PRIV_H

#include <ecsrev/creds.h>
#include <ecsrev/error.h>
#include <ecsrev/sigv4.h>

#include <stdbool.h>

/** Is @p p an SSO profile (sso_account_id or sso_role_name, as botocore decides)? */
bool ecsrev_sso__configured(const struct ecsrev_aws_profile *p);

/**
 * Role credentials of the SSO profile @p p: the access token `aws sso login`
 * cached under $HOME/.aws/sso/cache (refreshed through SSO-OIDC, and the cache
 * file replaced, when it expires within 15 minutes and can be refreshed),
 * exchanged at the portal (GET /federation/credentials) for the profile's
 * account and role.
 *
 * @return 0; ECSREV_EAUTH naming the profile for a missing or bad setting, no
 *         cached login, an expired one ("run `aws sso login --profile dev`"), a
 *         refused or malformed answer; ECSREV_ENET / ECSREV_EHTTP when the portal
 *         cannot be used after the retries. Messages never hold a secret.
 */
ECSREV_MUST_CHECK int ecsrev_sso__credentials(struct ecsrev_credentials *out,
                                              const struct ecsrev_aws_profile *p,
                                              const struct ecsrev_aws_config *cfg,
                                              const struct ecsrev_creds_context *ctx,
                                              struct ecsrev_error *err);

#endif
