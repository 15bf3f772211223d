BEGIN
  -- A change of status alone (publishing, archiving) is not a new revision of the material.
  IF (NEW.content_type, NEW.title, NEW.summary, NEW.body, NEW.media_asset_id)
     IS DISTINCT FROM (OLD.content_type, OLD.title, OLD.summary, OLD.body, OLD.media_asset_id) THEN
    INSERT INTO content_management.content_versions
      (organization_id, content_item_id, version, content_type, title, summary, body,
       media_asset_id, status, author_id, valid_from, superseded_at, superseded_by)
    VALUES
      (OLD.organization_id, OLD.id, OLD.version, OLD.content_type, OLD.title, OLD.summary, OLD.body,
       OLD.media_asset_id, OLD.status, OLD.author_id, least(OLD.updated_at, now()), now(),
       NULLIF(current_setting('app.current_user_id', true), '')::uuid);
    NEW.version := OLD.version + 1;
  ELSE
    NEW.version := OLD.version;
  END IF;
  RETURN NEW;
END
